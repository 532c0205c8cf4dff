// A folder in the migrations folder is not named <14-digit version>_<name>.
// (trybuild builds this file from target/tests/trybuild/tenant-model, its
// CARGO_MANIFEST_DIR; the path climbs back to this folder.)
fn main() {
    let _migrations =
        tenant_model::embed_migrations!("../../../../tenant-model/tests/ui/fail/migrations/bad_name");
}
