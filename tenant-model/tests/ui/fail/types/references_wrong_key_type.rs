use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(global)]
pub struct Country {
    #[tenant_model(primary_key)]
    pub code: String,
}

#[derive(TenantModel)]
pub struct Address {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Country)]
    pub country_id: Option<Uuid>,
}

fn main() {}
