use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(default = 0, default_sql = "1 + 1")]
    pub logins: i32,
}

fn main() {}
