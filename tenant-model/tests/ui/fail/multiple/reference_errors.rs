// Every reference mistake the compiler finds is reported in one build.
use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Membership {
    #[tenant_model(primary_key)]
    pub user_id: Uuid,
    #[tenant_model(primary_key)]
    pub team_id: Uuid,
}

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
#[tenant_model(global)]
pub struct Country {
    #[tenant_model(primary_key)]
    pub code: String,
}

#[derive(TenantModel)]
#[tenant_model(global, soft_delete(by = User))]
pub struct Announcement {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Membership)]
    pub membership_id: Uuid,
    #[tenant_model(references = Country)]
    pub country_id: Uuid,
    #[tenant_model(references = User)]
    pub author_id: Option<Uuid>,
}

fn main() {}
