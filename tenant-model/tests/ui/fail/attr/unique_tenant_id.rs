use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(unique(tenant_id, email))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
}

fn main() {}
