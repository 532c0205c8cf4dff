use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(on_delete = cascade)]
    pub organization_id: Uuid,
}

fn main() {}
