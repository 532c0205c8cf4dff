use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(unique(tenant_id, email), index(tenant_id))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 20_000_000)]
    pub email: String,
    pub def: String,
}

fn main() {}
