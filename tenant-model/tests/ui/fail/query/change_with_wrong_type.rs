use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub full_name: String,
}

fn main() {
    let _ = Changes::<User>::new().set(User::FULL_NAME, 42);
}
