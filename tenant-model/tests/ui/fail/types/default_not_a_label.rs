use tenant_model::prelude::*;

#[derive(PgEnum, Debug)]
pub enum UserRole {
    Owner,
    Member,
}

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(default = "admin")]
    pub role: UserRole,
}

fn main() {}
