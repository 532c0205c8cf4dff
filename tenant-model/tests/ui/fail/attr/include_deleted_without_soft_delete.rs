use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(unique(email, include_deleted = true))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
}

fn main() {}
