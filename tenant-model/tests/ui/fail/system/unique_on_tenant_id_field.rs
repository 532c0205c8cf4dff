use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(unique)]
    pub tenant_id: TenantId,
}

fn main() {}
