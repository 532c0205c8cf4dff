use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 10_485_761)]
    pub bio: String,
}

fn main() {}
