use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
#[tenant_model(link(User))]
pub struct Membership {
    #[tenant_model(primary_key, references = User)]
    pub user_id: Uuid,
}

fn main() {}
