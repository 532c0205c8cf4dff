use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(has_many(teams = Team, via = name))]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization)]
    pub organization_id: Uuid,
    pub name: String,
}

fn main() {}
