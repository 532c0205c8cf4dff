use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization)]
    pub organization_id: String,
}

fn main() {}
