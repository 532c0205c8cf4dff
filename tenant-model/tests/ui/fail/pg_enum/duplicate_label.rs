use tenant_model::prelude::*;

#[derive(PgEnum, Debug)]
pub enum Status {
    Active,
    #[tenant_model(rename = "active")]
    Enabled,
}

fn main() {}
