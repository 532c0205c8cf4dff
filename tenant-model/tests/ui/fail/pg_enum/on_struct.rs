use tenant_model::prelude::*;

#[derive(PgEnum, Debug)]
pub struct Status {
    pub label: String,
}

fn main() {}
