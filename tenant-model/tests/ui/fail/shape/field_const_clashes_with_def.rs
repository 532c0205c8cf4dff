use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Word {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub def: String,
}

fn main() {}
