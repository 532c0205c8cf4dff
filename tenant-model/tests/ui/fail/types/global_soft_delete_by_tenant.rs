use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
#[tenant_model(global, soft_delete(by = User))]
pub struct Plan {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

fn main() {}
