use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
}

fn main() {
    let _ = User::query().filter(User::EMAIL.eq(42));
}
