use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(table = "users")]
#[tenant_model(table = "people")]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

fn main() {}
