use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(tabel = "users")]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

fn main() {}
