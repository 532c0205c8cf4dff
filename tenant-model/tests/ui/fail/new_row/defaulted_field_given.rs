use tenant_model::prelude::*;

#[derive(TenantModel, Debug)]
pub struct Member {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
    #[tenant_model(default = true)]
    pub is_active: bool,
}

fn main() {
    // `is_active` has a default: only `email` is required.
    let _ = Member::with_defaults(("ann@acme.test".to_owned(), false));
}
