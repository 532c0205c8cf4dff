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
    #[tenant_model(references = Organization, on_delete = set_null)]
    pub organization_id: Uuid,
}

fn main() {}
