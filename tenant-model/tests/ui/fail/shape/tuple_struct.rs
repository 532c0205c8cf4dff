use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User(Uuid, String);

fn main() {}
