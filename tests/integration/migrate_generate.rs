//! Autogenerate (`tenant_model::migrate::generate`): for each kind of
//! change, a database made from the old models (or changed by hand) is
//! migrated with the generated `up`, which leaves nothing to generate, and
//! the generated `down` restores the catalog exactly.
//!
//! DDL runs as the superuser, who owns the tables (migrations run as the
//! owner). Each version of a model is a struct of its own on the same table.

#![allow(dead_code)]

use tenant_model::migrate::{self, Catalog, GenerateError, GenerateOptions, Generated, Rename};
use tenant_model::prelude::*;
use tenant_model::testing::TestDb;
use tokio_postgres::Client;

use crate::models;

// ---------------------------------------------------------------- models

/// The enum before and after labels are added or dropped.
#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
#[tenant_model(type_name = "gadget_kind")]
pub enum KindAb {
    A,
    B,
}

#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
#[tenant_model(type_name = "gadget_kind")]
pub enum KindAbc {
    A,
    B,
    C,
}

/// The base version of `gadgets`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct Gadget {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// Columns added: `color` (nullable), `weight` (NOT NULL with a default).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetMoreColumns {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
    pub color: Option<String>,
    #[tenant_model(default = 1)]
    pub weight: i64,
}

/// Column `label` dropped.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetNoLabel {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
}

/// Column `label` renamed to `title`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetTitle {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub title: Option<String>,
}

/// `size` widened to bigint, `name` to varchar(100).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetWide {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 100)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i64,
    pub label: Option<String>,
}

/// `size` narrowed to smallint.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetSmallSize {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i16,
    pub label: Option<String>,
}

/// `name` narrowed to varchar(20).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetShortName {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 20)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// `name` nullable, `label` NOT NULL.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetNullability {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: Option<String>,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: String,
}

/// `size` defaults to 5, `label` to 'none'.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetDefaults {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 5)]
    pub size: i32,
    #[tenant_model(default = "none")]
    pub label: Option<String>,
}

/// Indexes: `size` now descending and partial, a new one on `label`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(
    table = "gadgets",
    index(size desc, where = "label IS NOT NULL", name = "idx_gadgets_size"),
    index(label),
    unique(name)
)]
pub struct GadgetIndexes {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// No secondary index at all.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", unique(name))]
pub struct GadgetNoIndex {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// Unique keys: `name` now with `size`, and a new one on `label`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(
    table = "gadgets",
    index(size),
    unique(name, size, name = "gadgets_tenant_id_name_key"),
    unique(label)
)]
pub struct GadgetUniques {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// With an enum column of a new type.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetKindAb {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
    #[tenant_model(default = "a")]
    pub kind: KindAb,
}

/// The enum has a new label, which the column's default uses.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", index(size), unique(name))]
pub struct GadgetKindAbc {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
    #[tenant_model(default = "c")]
    pub kind: KindAbc,
}

/// Soft delete switched on: three columns, a check, and the unique key
/// becomes a partial unique index under the same name.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "gadgets", soft_delete, index(size), unique(name))]
pub struct GadgetSoftDelete {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 50)]
    pub name: String,
    #[tenant_model(default = 0)]
    pub size: i32,
    pub label: Option<String>,
}

/// A table that references `gadgets` (cascade).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "parts")]
pub struct Part {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Gadget, on_delete = cascade)]
    pub gadget_id: Uuid,
    pub quantity: i32,
}

/// `parts` without its foreign key.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "parts")]
pub struct PartNoReference {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub gadget_id: Uuid,
    pub quantity: i32,
}

/// `parts` whose foreign key now restricts deletes.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "parts")]
pub struct PartRestrict {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Gadget, on_delete = restrict)]
    pub gadget_id: Uuid,
    pub quantity: i32,
}

/// `parts` under another name.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "components")]
pub struct Component {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Gadget, on_delete = cascade)]
    pub gadget_id: Uuid,
    pub quantity: i32,
}

fn gadgets() -> Schema {
    Schema::new().model::<Gadget>()
}

// --------------------------------------------------------------- helpers

/// Runs one migration file the way the runner does: in a transaction.
async fn apply(client: &Client, sql: &str) {
    client
        .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
        .await
        .unwrap_or_else(|e| panic!("migration failed: {}\n{sql}", tenant_model::Error::from(e)));
}

async fn catalog(client: &Client) -> Catalog {
    Catalog::read(client, "public").await.expect("read catalog")
}

/// Generates for `schema`, applies every `up`, and checks that generating
/// again gives nothing.
async fn up(client: &mut Client, schema: &Schema, options: &GenerateOptions) -> Generated {
    let generated = migrate::generate(client, schema, options)
        .await
        .expect("generate");
    assert!(!generated.is_empty(), "there is a change to migrate");
    assert!(
        generated.unexpressible.is_empty(),
        "nothing unexpressible: {:?}",
        generated.unexpressible
    );
    for migration in &generated.migrations {
        apply(client, &migration.up).await;
    }
    let again = migrate::generate(client, schema, &GenerateOptions::default())
        .await
        .expect("generate again");
    assert!(
        again.is_empty() && again.unexpressible.is_empty(),
        "generating after up must give nothing; first:\n{}\nthen: {again:#?}",
        ups(&generated)
    );
    generated
}

/// Applies every `down`, last migration first, and checks the catalog is
/// `before` again.
async fn down(client: &Client, generated: &Generated, before: &Catalog) {
    for migration in generated.migrations.iter().rev() {
        apply(client, &migration.down).await;
    }
    let after = catalog(client).await;
    assert!(
        &after == before,
        "down must restore the catalog; down was:\n{}\nbefore: {before:#?}\nafter: {after:#?}",
        generated
            .migrations
            .iter()
            .rev()
            .map(|m| m.down.as_str())
            .collect::<String>()
    );
}

fn ups(generated: &Generated) -> String {
    generated.migrations.iter().map(|m| m.up.as_str()).collect()
}

/// A database with `old`, migrated to `new` and back.
async fn round_trip(old: &Schema, new: &Schema, options: &GenerateOptions) -> Generated {
    let db = TestDb::new(old).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    let before = catalog(&su).await;
    let generated = up(&mut su, new, options).await;
    down(&su, &generated, &before).await;
    generated
}

/// A database with `schema` changed by hand with `drift`, brought back to
/// `schema`, then the drift restored by `down`.
async fn repair(schema: &Schema, drift: &str) -> Generated {
    let db = TestDb::new(schema).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    su.batch_execute(drift).await.expect("drift");
    let before = catalog(&su).await;
    let generated = up(&mut su, schema, &GenerateOptions::default()).await;
    down(&su, &generated, &before).await;
    generated
}

fn destructive() -> GenerateOptions {
    GenerateOptions {
        allow_destructive: true,
        renames: Vec::new(),
    }
}

/// `generate` without the flag refuses, naming the change; nothing changes.
async fn refused(old: &Schema, new: &Schema, expect: &str) {
    let db = TestDb::new(old).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    let before = catalog(&su).await;
    let err = migrate::generate(&mut su, new, &GenerateOptions::default())
        .await
        .expect_err("destructive changes need the flag");
    match &err {
        tenant_model::Error::Generate(GenerateError::Destructive { changes }) => assert!(
            changes.iter().any(|c| c.contains(expect)),
            "{changes:?} should name {expect:?}"
        ),
        other => panic!("expected GenerateError::Destructive, got {other:?}"),
    }
    assert_eq!(catalog(&su).await, before, "generate changes nothing");
}

/// Every destructive statement is marked, and the migration says so.
fn assert_marked(generated: &Generated, statement: &str) {
    let up = ups(generated);
    let marked = format!("-- tenant-model: destructive\n{statement}");
    assert!(
        up.contains(&marked),
        "{statement:?} marked destructive in:\n{up}"
    );
    assert!(generated.migrations.iter().any(|m| m.destructive));
}

// ----------------------------------------------------------------- tables

#[tokio::test]
async fn table_added() {
    let generated = round_trip(
        &gadgets(),
        &gadgets().model::<Part>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    // Exactly what the schema emitter writes for it.
    let table = Schema::new()
        .model::<Part>()
        .tables()
        .into_iter()
        .find(|t| t.name == "parts")
        .expect("parts");
    assert!(up.contains(&table.create_sql(&[])), "{up}");
    assert!(
        up.contains("ALTER TABLE parts FORCE ROW LEVEL SECURITY;"),
        "{up}"
    );
    assert!(!generated.migrations[0].destructive);
    assert!(generated.migrations[0].down.contains("DROP TABLE parts;"));
}

#[tokio::test]
async fn table_dropped_needs_the_flag() {
    let old = gadgets().model::<Part>();
    refused(&old, &gadgets(), "drop table parts").await;
    let generated = round_trip(&old, &gadgets(), &destructive()).await;
    assert_marked(&generated, "DROP TABLE parts;");
    assert!(generated.migrations[0]
        .down
        .contains("-- restores the table without its rows\nCREATE TABLE parts ("));
}

#[tokio::test]
async fn table_renamed_when_told() {
    let options = GenerateOptions {
        allow_destructive: false,
        renames: vec![Rename::table("parts", "components")],
    };
    let generated = round_trip(
        &gadgets().model::<Part>(),
        &gadgets().model::<Component>(),
        &options,
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE parts RENAME TO components;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE components RENAME CONSTRAINT parts_pkey TO components_pkey;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER INDEX idx_parts_gadget_id RENAME TO idx_components_gadget_id;"),
        "{up}"
    );
    assert!(!up.contains("DROP TABLE"), "{up}");
}

// ---------------------------------------------------------------- columns

#[tokio::test]
async fn column_added() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetMoreColumns>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets ADD COLUMN color text;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE gadgets ADD COLUMN weight bigint NOT NULL DEFAULT 1;"),
        "{up}"
    );
}

#[tokio::test]
async fn column_dropped_needs_the_flag() {
    let new = Schema::new().model::<GadgetNoLabel>();
    refused(&gadgets(), &new, "drop column gadgets.label").await;
    let generated = round_trip(&gadgets(), &new, &destructive()).await;
    assert_marked(&generated, "ALTER TABLE gadgets DROP COLUMN label;");
    assert!(generated.migrations[0].down.contains(
        "-- restores the column without its values\nALTER TABLE gadgets ADD COLUMN label text;"
    ));
}

#[tokio::test]
async fn column_renamed_when_told() {
    let new = Schema::new().model::<GadgetTitle>();
    // Without the rename it is a drop and an add: destructive.
    refused(&gadgets(), &new, "drop column gadgets.label").await;
    let options = GenerateOptions {
        allow_destructive: false,
        renames: vec![Rename::column("gadgets", "label", "title")],
    };
    let generated = round_trip(&gadgets(), &new, &options).await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets RENAME COLUMN label TO title;"),
        "{up}"
    );
    assert!(!up.contains("DROP COLUMN"), "{up}");
    assert!(generated.migrations[0]
        .down
        .contains("ALTER TABLE gadgets RENAME COLUMN title TO label;"));

    // A rename that does not fit the live schema is an error.
    let db = TestDb::new(&gadgets()).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    let wrong = GenerateOptions {
        allow_destructive: false,
        renames: vec![Rename::column("gadgets", "nope", "title")],
    };
    let err = migrate::generate(&mut su, &new, &wrong)
        .await
        .expect_err("no such column");
    assert!(
        matches!(
            err,
            tenant_model::Error::Generate(GenerateError::Rename { .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn type_widening_is_safe() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetWide>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets ALTER COLUMN size TYPE bigint;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE gadgets ALTER COLUMN name TYPE character varying(100);"),
        "{up}"
    );
    assert!(!generated.migrations[0].destructive);
}

#[tokio::test]
async fn type_narrowing_is_destructive() {
    let new = Schema::new().model::<GadgetSmallSize>();
    refused(&gadgets(), &new, "gadgets.size from integer to smallint").await;
    let generated = round_trip(&gadgets(), &new, &destructive()).await;
    assert_marked(
        &generated,
        "ALTER TABLE gadgets ALTER COLUMN size TYPE smallint USING size::smallint;",
    );
}

#[tokio::test]
async fn varchar_length_change() {
    // Longer is a widening (see type_widening_is_safe); shorter loses data.
    let new = Schema::new().model::<GadgetShortName>();
    refused(&gadgets(), &new, "gadgets.name from character varying(50)").await;
    let generated = round_trip(&gadgets(), &new, &destructive()).await;
    assert_marked(
        &generated,
        "ALTER TABLE gadgets ALTER COLUMN name TYPE character varying(20) USING name::character varying(20);",
    );
}

#[tokio::test]
async fn nullability_change() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetNullability>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets ALTER COLUMN name DROP NOT NULL;"),
        "{up}"
    );
    assert!(
        up.contains("-- fails if a row holds NULL in this column: backfill first\nALTER TABLE gadgets ALTER COLUMN label SET NOT NULL;"),
        "{up}"
    );
}

#[tokio::test]
async fn default_change() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetDefaults>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets ALTER COLUMN size SET DEFAULT 5;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE gadgets ALTER COLUMN label SET DEFAULT 'none'::text;"),
        "{up}"
    );
    assert!(generated.migrations[0]
        .down
        .contains("ALTER TABLE gadgets ALTER COLUMN label DROP DEFAULT;"));
}

// ------------------------------------------------------- indexes and keys

#[tokio::test]
async fn index_added_removed_and_changed() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetIndexes>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    // Same name, now descending and partial: dropped and created.
    assert!(up.contains("DROP INDEX idx_gadgets_size;"), "{up}");
    assert!(
        up.contains("CREATE INDEX idx_gadgets_size ON gadgets USING btree (tenant_id, size DESC) WHERE (label IS NOT NULL);"),
        "{up}"
    );
    assert!(
        up.contains("CREATE INDEX idx_gadgets_label ON gadgets USING btree (tenant_id, label);"),
        "{up}"
    );
    // And removed.
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetNoIndex>(),
        &GenerateOptions::default(),
    )
    .await;
    assert!(ups(&generated).contains("DROP INDEX idx_gadgets_size;"));
}

#[tokio::test]
async fn unique_key_added_and_changed() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetUniques>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE gadgets DROP CONSTRAINT gadgets_tenant_id_name_key;"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE gadgets ADD CONSTRAINT gadgets_tenant_id_name_key UNIQUE (tenant_id, name, size);"),
        "{up}"
    );
    assert!(
        up.contains("ALTER TABLE gadgets ADD CONSTRAINT gadgets_tenant_id_label_key UNIQUE (tenant_id, label);"),
        "{up}"
    );
}

#[tokio::test]
async fn foreign_key_added_and_changed() {
    let generated = round_trip(
        &gadgets().model::<PartNoReference>(),
        &gadgets().model::<Part>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("ALTER TABLE parts ADD CONSTRAINT parts_gadget_id_fkey FOREIGN KEY (tenant_id, gadget_id) REFERENCES gadgets(tenant_id, id) ON DELETE CASCADE;"),
        "{up}"
    );
    // The action changes: dropped before, added after.
    let generated = round_trip(
        &gadgets().model::<Part>(),
        &gadgets().model::<PartRestrict>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    let dropped = up
        .find("ALTER TABLE parts DROP CONSTRAINT parts_gadget_id_fkey;")
        .expect("dropped");
    let added = up
        .find("ALTER TABLE parts ADD CONSTRAINT parts_gadget_id_fkey FOREIGN KEY (tenant_id, gadget_id) REFERENCES gadgets(tenant_id, id) ON DELETE RESTRICT;")
        .expect("added");
    assert!(dropped < added, "{up}");
}

#[tokio::test]
async fn soft_delete_switched_on() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetSoftDelete>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    let dropped = up
        .find("ALTER TABLE gadgets DROP CONSTRAINT gadgets_tenant_id_name_key;")
        .expect("unique constraint dropped");
    let created = up
        .find("CREATE UNIQUE INDEX gadgets_tenant_id_name_key ON gadgets USING btree (tenant_id, name) WHERE (NOT is_deleted);")
        .expect("partial unique index created");
    assert!(dropped < created, "{up}");
    assert!(
        up.contains("ADD CONSTRAINT gadgets_soft_delete_check CHECK ((is_deleted = (deleted_at IS NOT NULL)));"),
        "{up}"
    );
}

// ------------------------------------------------------------------ enums

#[tokio::test]
async fn enum_type_added() {
    let generated = round_trip(
        &gadgets(),
        &Schema::new().model::<GadgetKindAb>(),
        &GenerateOptions::default(),
    )
    .await;
    let up = ups(&generated);
    let created = up
        .find("CREATE TYPE gadget_kind AS ENUM ('a', 'b');")
        .expect("type");
    let used = up
        .find("ALTER TABLE gadgets ADD COLUMN kind gadget_kind NOT NULL DEFAULT 'a'::gadget_kind;")
        .expect("column");
    assert!(created < used, "{up}");
    assert_eq!(generated.migrations.len(), 1);
    assert!(generated.migrations[0]
        .down
        .contains("DROP TYPE gadget_kind;"));
}

#[tokio::test]
async fn enum_value_added_in_its_own_earlier_migration() {
    let old = Schema::new().model::<GadgetKindAb>();
    let new = Schema::new().model::<GadgetKindAbc>();
    let db = TestDb::new(&old).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    let before = catalog(&su).await;
    let generated = up(&mut su, &new, &GenerateOptions::default()).await;
    assert_eq!(generated.migrations.len(), 2, "{generated:#?}");
    let (values, main) = (&generated.migrations[0], &generated.migrations[1]);
    assert_eq!(values.name_suffix, "_enum_values");
    assert_eq!(main.name_suffix, "");
    assert!(
        values
            .up
            .contains("ALTER TYPE gadget_kind ADD VALUE 'c' AFTER 'b';"),
        "{}",
        values.up
    );
    assert!(
        main.up
            .contains("ALTER TABLE gadgets ALTER COLUMN kind SET DEFAULT 'c'::gadget_kind;"),
        "{}",
        main.up
    );
    // The default with the new value works.
    let tenant = Uuid::now_v7();
    su.execute(
        "INSERT INTO tenants (id, name, slug) VALUES ($1, 'T', 't')",
        &[&tenant],
    )
    .await
    .expect("tenant");
    let kind: String = su
        .query_one(
            "INSERT INTO gadgets (id, tenant_id, name) VALUES ($1, $2, 'g') RETURNING kind::text",
            &[&Uuid::now_v7(), &tenant],
        )
        .await
        .expect("insert")
        .get(0);
    assert_eq!(kind, "c");
    su.batch_execute("DELETE FROM gadgets; DELETE FROM tenants;")
        .await
        .expect("clean up");
    down(&su, &generated, &before).await;
}

#[tokio::test]
async fn enum_value_dropped_needs_the_flag() {
    let old = Schema::new().model::<GadgetKindAbc>();
    let new = Schema::new().model::<GadgetKindAb>();
    refused(&old, &new, "drop value 'c' of enum gadget_kind").await;
    let generated = round_trip(&old, &new, &destructive()).await;
    assert_eq!(generated.migrations.len(), 1);
    assert_marked(
        &generated,
        "ALTER TYPE gadget_kind RENAME TO gadget_kind_tm_old;",
    );
    let up = ups(&generated);
    assert!(
        up.contains(
            "ALTER TABLE gadgets ALTER COLUMN kind TYPE gadget_kind USING kind::text::gadget_kind;"
        ),
        "{up}"
    );
}

// -------------------------------------------- security changed by hand

#[tokio::test]
async fn rls_disabled_by_hand_is_enabled_again() {
    let generated = repair(&gadgets(), "ALTER TABLE gadgets DISABLE ROW LEVEL SECURITY").await;
    assert_eq!(
        ups(&generated).matches(';').count(),
        1,
        "{}",
        ups(&generated)
    );
    assert!(ups(&generated).contains("ALTER TABLE gadgets ENABLE ROW LEVEL SECURITY;"));
}

#[tokio::test]
async fn force_removed_by_hand_is_forced_again() {
    let generated = repair(
        &gadgets(),
        "ALTER TABLE gadgets NO FORCE ROW LEVEL SECURITY",
    )
    .await;
    assert!(ups(&generated).contains("ALTER TABLE gadgets FORCE ROW LEVEL SECURITY;"));
}

#[tokio::test]
async fn policy_changed_by_hand_is_detected_and_regenerated() {
    let generated = repair(
        &gadgets(),
        "DROP POLICY gadgets_tenant_isolation ON gadgets; \
         CREATE POLICY gadgets_tenant_isolation ON gadgets USING (true) WITH CHECK (true);",
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("DROP POLICY gadgets_tenant_isolation ON gadgets;"),
        "{up}"
    );
    assert!(
        up.contains("CREATE POLICY gadgets_tenant_isolation ON gadgets\n    USING ((tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS \"nullif\")))"),
        "{up}"
    );
}

#[tokio::test]
async fn policy_renamed_by_hand_with_the_same_rule_is_no_change() {
    let db = TestDb::new(&gadgets()).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    su.batch_execute("ALTER POLICY gadgets_tenant_isolation ON gadgets RENAME TO my_isolation")
        .await
        .expect("rename policy");
    let generated = migrate::generate(&mut su, &gadgets(), &GenerateOptions::default())
        .await
        .expect("generate");
    assert!(generated.is_empty(), "{generated:#?}");
    assert!(generated.unexpressible.is_empty());
}

#[tokio::test]
async fn grants_changed_by_hand_are_restored() {
    let generated = repair(
        &gadgets(),
        "GRANT TRUNCATE ON gadgets TO tenant_model_app; \
         REVOKE DELETE ON gadgets FROM tenant_model_app; \
         GRANT UPDATE (slug) ON tenants TO tenant_model_app;",
    )
    .await;
    let up = ups(&generated);
    assert!(
        up.contains("REVOKE TRUNCATE ON gadgets FROM tenant_model_app;"),
        "{up}"
    );
    assert!(
        up.contains("GRANT DELETE ON gadgets TO tenant_model_app;"),
        "{up}"
    );
    assert!(
        up.contains("REVOKE UPDATE (slug) ON tenants FROM tenant_model_app;"),
        "{up}"
    );
}

#[tokio::test]
async fn trigger_dropped_by_hand_is_created_again() {
    let generated = repair(&gadgets(), "DROP TRIGGER gadgets_touch ON gadgets").await;
    let up = ups(&generated);
    assert!(
        up.contains("CREATE TRIGGER gadgets_touch BEFORE UPDATE ON gadgets FOR EACH ROW EXECUTE FUNCTION tenant_model_touch();"),
        "{up}"
    );
}

// ---------------------------------------------------------- whole model

#[tokio::test]
async fn example_model_from_an_empty_database() {
    let db = TestDb::new(&Schema::new()).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    su.batch_execute("DROP TABLE tenants; DROP FUNCTION tenant_model_touch();")
        .await
        .expect("empty the database");
    let before = catalog(&su).await;
    assert!(before.tables.is_empty() && before.functions.is_empty());
    let generated = up(&mut su, &models::schema(), &GenerateOptions::default()).await;
    assert_eq!(generated.migrations.len(), 1);
    down(&su, &generated, &before).await;
}

#[tokio::test]
async fn a_database_made_by_create_sql_diffs_empty() {
    let schema = crate::support::schema();
    let db = TestDb::new(&schema).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    let generated = migrate::generate(&mut su, &schema, &GenerateOptions::default())
        .await
        .expect("generate");
    assert!(generated.is_empty(), "{:#?}", generated.migrations);
    assert!(
        generated.unexpressible.is_empty(),
        "{:?}",
        generated.unexpressible
    );
}

#[tokio::test]
async fn what_autogenerate_cannot_express_is_reported_and_left_alone() {
    let db = TestDb::new(&gadgets()).await.expect("test database");
    let mut su = db.superuser().await.expect("superuser");
    su.batch_execute(
        "CREATE TABLE legacy (id int PRIMARY KEY); \
         CREATE VIEW gadget_names AS SELECT name FROM gadgets; \
         CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER gadgets_audit AFTER INSERT ON gadgets FOR EACH ROW EXECUTE FUNCTION audit_row(); \
         ALTER TABLE gadgets ADD CONSTRAINT gadgets_size_check CHECK (size >= 0); \
         CREATE TABLE tenant_model_migrations (version bigint PRIMARY KEY); \
         ALTER TABLE gadgets ALTER COLUMN size DROP DEFAULT; \
         ALTER TABLE gadgets ALTER COLUMN size ADD GENERATED BY DEFAULT AS IDENTITY; \
         CREATE DOMAIN short_text AS text; \
         ALTER TABLE gadgets ALTER COLUMN label TYPE short_text;",
    )
    .await
    .expect("objects the models do not define");
    let generated = migrate::generate(&mut su, &gadgets(), &GenerateOptions::default())
        .await
        .expect("generate");
    assert!(generated.is_empty(), "{:#?}", generated.migrations);
    let report = generated.unexpressible.join("\n");
    for needle in [
        "table legacy is not defined by the models",
        "view gadget_names",
        "function audit_row()",
        "trigger gadgets_audit on gadgets",
        "constraint gadgets_size_check on gadgets",
        "column gadgets.size is an identity column",
        "column gadgets.label is of a type autogenerate does not map (short_text)",
    ] {
        assert!(report.contains(needle), "{needle:?} in:\n{report}");
    }
    assert!(
        !report.contains("tenant_model_migrations"),
        "the ledger is ignored: {report}"
    );
    assert_eq!(generated.unexpressible.len(), 7, "{report}");
}

#[tokio::test]
async fn written_folders() {
    let generated = round_trip(
        &Schema::new().model::<GadgetKindAb>(),
        &Schema::new().model::<GadgetKindAbc>(),
        &GenerateOptions::default(),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("tm_generate_{}", Uuid::now_v7().simple()));
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:59Z")
        .expect("time")
        .with_timezone(&Utc);
    let folders = generated.write(&dir, "kind_c", now).expect("write");
    let names: Vec<String> = folders
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        ["20260102030459_kind_c_enum_values", "20260102030500_kind_c"]
    );
    for (folder, migration) in folders.iter().zip(&generated.migrations) {
        assert_eq!(
            std::fs::read_to_string(folder.join("up.sql")).expect("up"),
            migration.up
        );
        assert_eq!(
            std::fs::read_to_string(folder.join("down.sql")).expect("down"),
            migration.down
        );
    }
    // Not twice, and not under a bad name.
    assert!(matches!(
        generated.write(&dir, "kind_c", now),
        Err(tenant_model::Error::Generate(GenerateError::Exists(_)))
    ));
    assert!(matches!(
        generated.write(&dir, "Kind C", now),
        Err(tenant_model::Error::Generate(GenerateError::InvalidName(_)))
    ));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// What `generate` writes, the runner applies: the files of an enum-value
/// change (two folders, the values committed first) and of a destructive
/// change (marked statements) go through `Migrations::from_dir` and
/// `Migrator::up`, after which there is nothing to generate, and
/// `Migrator::down` restores the catalog.
#[tokio::test]
async fn generated_files_run_through_the_runner_and_back() {
    let cases = [
        (
            Schema::new().model::<GadgetKindAb>(),
            Schema::new().model::<GadgetKindAbc>(),
            GenerateOptions::default(),
            2,
        ),
        (
            gadgets(),
            Schema::new().model::<GadgetNoLabel>(),
            destructive(),
            1,
        ),
    ];
    for (old, new, options, folders) in cases {
        let db = TestDb::new(&old).await.expect("test database");
        let mut su = db.superuser().await.expect("superuser");
        let before = catalog(&su).await;
        let generated = migrate::generate(&mut su, &new, &options)
            .await
            .expect("generate");
        let dir = std::env::temp_dir().join(format!("tm_gen_{}", Uuid::now_v7().simple()));
        let written = generated
            .write(&dir, "change", chrono::Utc::now())
            .expect("write the folders");
        assert_eq!(written.len(), folders, "{written:?}");

        let migrations = migrate::Migrations::from_dir(&dir).expect("the runner reads them");
        assert_eq!(migrations.len(), folders);
        let migrator = migrate::Migrator::new(&migrations);
        let applied = migrator.up(&mut su, None).await.expect("runner up");
        assert_eq!(applied.len(), folders);
        let again = migrate::generate(&mut su, &new, &GenerateOptions::default())
            .await
            .expect("generate again");
        assert!(
            again.is_empty(),
            "nothing left after the runner: {again:#?}"
        );

        migrator
            .down(&mut su, migrate::DownTarget::All)
            .await
            .expect("runner down");
        su.batch_execute(&format!("DROP TABLE {}", migrate::LEDGER_TABLE))
            .await
            .expect("drop the ledger");
        assert_eq!(catalog(&su).await, before, "down restores the catalog");
        std::fs::remove_dir_all(&dir).expect("remove the folders");
    }
}
