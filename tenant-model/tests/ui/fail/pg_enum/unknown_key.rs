use tenant_model::prelude::*;

#[derive(PgEnum, Debug)]
#[tenant_model(table = "statuses")]
pub enum Status {
    Active,
    Inactive,
}

fn main() {}
