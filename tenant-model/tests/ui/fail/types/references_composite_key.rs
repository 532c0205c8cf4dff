use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Membership {
    #[tenant_model(primary_key)]
    pub user_id: Uuid,
    #[tenant_model(primary_key)]
    pub team_id: Uuid,
}

#[derive(TenantModel)]
pub struct Invite {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Membership)]
    pub membership_id: Uuid,
}

fn main() {}
