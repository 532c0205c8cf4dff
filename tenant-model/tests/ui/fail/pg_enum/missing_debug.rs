use tenant_model::prelude::*;

#[derive(PgEnum)]
pub enum Status {
    Active,
    Inactive,
}

fn main() {}
