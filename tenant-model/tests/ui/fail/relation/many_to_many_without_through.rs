use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(many_to_many(teams = Team))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

fn main() {}
