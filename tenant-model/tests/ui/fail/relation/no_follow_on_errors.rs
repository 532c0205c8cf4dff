use tenant_model::prelude::*;

// Each derive fails on a typo; the relation constants the user's code
// names are still there (as stubs), so the typos are the only errors.
#[derive(TenantModel)]
#[tenant_model(has_many(teams = Team), tabel = "orgs")]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
#[tenant_model(many_to_many(members = User, through = Membership))]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization, colum = "org")]
    pub organization_id: Uuid,
}

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Membership {
    #[tenant_model(primary_key, references = User)]
    pub user_id: Uuid,
    #[tenant_model(primary_key, references = Team)]
    pub team_id: Uuid,
}

fn main() {
    let _ = Organization::TEAMS;
    let _ = Team::ORGANIZATION;
    let _ = Team::MEMBERS;
}
