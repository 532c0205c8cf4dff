use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
}

#[derive(TenantModel)]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub name: String,
}

fn main() {
    let _ = User::query().filter(Team::NAME.eq("core"));
}
