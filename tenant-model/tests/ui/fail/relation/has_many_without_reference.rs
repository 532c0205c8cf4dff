use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(has_many(teams = Team))]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

// No `references = Organization`: the relation has no foreign key to follow.
#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub organization_id: Uuid,
}

fn main() {}
