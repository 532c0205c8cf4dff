use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Item<T> {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub value: T,
}

fn main() {}
