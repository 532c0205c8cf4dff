//! The README's first example, as a program: `cargo run --example hello`.
//!
//! A new application compiles it unchanged with the README's
//! `[dependencies]` block (the `readme` integration test keeps the README
//! block and this file in step). The test harness (feature `testing`) gives
//! it a fresh database with the schema applied and a non-superuser,
//! non-owner login role for the application.

use tenant_model::prelude::*;
use tenant_model::testing::TestDb;

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "notes", soft_delete)]
pub struct Note {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 200)]
    pub title: String,
    pub tags: serde_json::Value,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // A fresh database with the schema, and a login role RLS applies to.
    let schema = Schema::new().model::<Note>();
    let test_db = TestDb::new(&schema).await?;
    let db = Db::from_pool(test_db.app_pool(4)).with_admin(test_db.admin_pool(1));
    let acme = db.create_tenant("Acme", "acme").await?.id; // audited admin work

    // Everything below runs in Acme's tenant context, one round trip each.
    let note = Note {
        id: Uuid::now_v7(),
        title: "Hello".into(),
        tags: serde_json::json!(["first"]),
    };
    db.tenant(acme).insert(note).await?;
    let hello = Note::query().filter(Note::TAGS.contains(serde_json::json!(["first"])));
    let notes = hello.all(db.tenant(acme)).await?;
    println!("Acme has {} note(s): {}", notes.len(), notes[0].title);
    Ok(())
}
