use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    pub id: Uuid,
    pub email: String,
}

fn main() {}
