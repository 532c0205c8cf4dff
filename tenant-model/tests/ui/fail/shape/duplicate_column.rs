use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
    #[tenant_model(column = "email")]
    pub contact: String,
}

fn main() {}
