use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(has_many(teams = Team))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

// Two references to `User`: `has_many` needs `via = owner_id` (or `via = creator_id`).
#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = User)]
    pub owner_id: Uuid,
    #[tenant_model(references = User)]
    pub creator_id: Uuid,
}

fn main() {}
