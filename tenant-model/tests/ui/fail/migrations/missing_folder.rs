// The migrations folder does not exist: a compile error at the literal.
fn main() {
    let _migrations = tenant_model::embed_migrations!("no/such/migrations");
}
