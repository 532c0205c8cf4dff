use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(default_sql = "now()")]
    pub created_at: DateTime<Utc>,
}

fn main() {}
