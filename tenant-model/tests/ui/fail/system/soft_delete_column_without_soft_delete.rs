use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub deleted_at: Option<DateTime<Utc>>,
}

fn main() {}
