use tenant_model::prelude::*;

#[derive(TenantModel)]
#[tenant_model(tabel = "users", index(emial))]
#[tenant_model(global, global)]
pub struct User {
    pub id: Uuid,
    #[tenant_model(max_length = 0, defualt = "x")]
    pub email: String,
    #[tenant_model(on_delete = cascade)]
    pub team_id: Uuid,
    pub tenant_id: Uuid,
}

fn main() {}
