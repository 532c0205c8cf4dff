use tenant_model::prelude::*;

pub struct Admin;

#[derive(TenantModel)]
#[tenant_model(soft_delete(by = Admin))]
pub struct Note {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

fn main() {}
