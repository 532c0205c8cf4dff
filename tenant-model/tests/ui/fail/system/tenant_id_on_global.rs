use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(global)]
pub struct Country {
    #[tenant_model(primary_key)]
    pub code: String,
    pub tenant_id: TenantId,
}

fn main() {}
