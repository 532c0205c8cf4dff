// The derive fails (no primary key), but the code using the model still
// type-checks against the stub, so the build shows only the real error.
use tenant_model::prelude::*;

#[derive(TenantModel)]
pub struct User {
    pub id: Uuid,
    pub email: String,
}

// A model referencing the failed one adds no error of its own.
#[derive(TenantModel)]
#[tenant_model(soft_delete(by = User))]
pub struct Post {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = User)]
    pub author_id: Uuid,
}

fn uses(user: &User) -> usize {
    let _email: Column<User, String> = User::EMAIL;
    let _created = User::CREATED_AT;
    let _ = User::DEF.table;
    user.insert_values().len()
}

fn main() {
    let _ = uses;
}
