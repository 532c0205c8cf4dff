use tenant_model::prelude::*;

#[derive(PgEnum, Debug)]
pub enum Status {
    Active,
    Suspended { reason: String },
}

fn main() {}
