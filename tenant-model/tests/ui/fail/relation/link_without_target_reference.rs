use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(many_to_many(teams = Team, through = Membership))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

// The link model references `User` but not `Team`.
#[derive(TenantModel)]
pub struct Membership {
    #[tenant_model(primary_key, references = User)]
    pub user_id: Uuid,
    #[tenant_model(primary_key)]
    pub team_id: Uuid,
}

fn main() {}
