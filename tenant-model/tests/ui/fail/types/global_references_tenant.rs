use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel)]
#[tenant_model(global)]
pub struct Announcement {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = User)]
    pub author_id: Uuid,
}

fn main() {}
