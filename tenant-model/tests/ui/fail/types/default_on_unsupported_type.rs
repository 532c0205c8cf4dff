// One error for the type, none more for the default.
use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(default = 0)]
    pub logins: u64,
}

fn main() {}
