//! Rebuilds the example and the tests when a migration folder is added:
//! `embed_migrations!` includes each file it finds (so an edited file
//! rebuilds by itself), but cannot ask cargo to watch the folder for new
//! ones.
fn main() {
    println!("cargo:rerun-if-changed=examples/saas/migrations");
    println!("cargo:rerun-if-changed=tests/migrations");
}
