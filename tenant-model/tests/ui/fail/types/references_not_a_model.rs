use tenant_model::prelude::*;

pub struct Organization {
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization)]
    pub organization_id: Uuid,
}

fn main() {}
