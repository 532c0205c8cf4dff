use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(relation = "owner")]
    pub owner_id: Uuid,
}

fn main() {}
