use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(index(tenant_id, created_at desc))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
}

fn main() {}
