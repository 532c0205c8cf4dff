use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

// `team_id` gives the relation `team` (`Membership::TEAM`), as does the field `team`.
#[derive(TenantModel)]
pub struct Membership {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Team)]
    pub team_id: Uuid,
    pub team: String,
}

fn main() {}
