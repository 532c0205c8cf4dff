use tenant_model::prelude::*;

// The child's derive fails on a typo: the parent's `has_many` is not
// checked against the child's stub, so the typo is the only error.
#[derive(TenantModel)]
#[tenant_model(has_many(teams = Team))]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization, on_delete = cascad)]
    pub organization_id: Uuid,
}

fn main() {
    let _ = Organization::TEAMS;
}
