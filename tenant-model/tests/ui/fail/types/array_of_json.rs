use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Event {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub payloads: Vec<serde_json::Value>,
}

fn main() {}
