use tenant_model::prelude::*;

#[derive(TenantModel)]
pub enum User {
    Admin,
    Member,
}

fn main() {}
