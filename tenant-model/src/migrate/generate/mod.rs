//! Autogenerate: the live catalog diffed against the models' schema, as an
//! `up` and a `down` migration.

mod error;
mod managed;
mod options;
mod output;

pub use error::GenerateError;
pub use options::{GenerateOptions, Rename};
pub use output::{Generated, GeneratedMigration};

use tokio_postgres::Client;

use crate::error::Error;
use crate::migrate::catalog::read::{read_namespace, set_search_path};
use crate::migrate::catalog::Catalog;
use crate::migrate::diff::{self, Direction, EnumMode, Step};
use crate::migrate::shadow;
use crate::model::record::decode;
use crate::sql::sql_text::ident;
use crate::Schema;

/// Compares the live schema with `schema` and returns the migrations that
/// bring the database to the models, each with its `down`.
///
/// The live side is the session's current schema (`current_schema()`,
/// usually `public`), read from `pg_catalog`. The expected side is
/// `schema`'s DDL run in a scratch schema and read back by the same
/// reader, so both are normalized by the server (types by `format_type`,
/// defaults, policies and index predicates by `pg_get_expr`, keys by
/// `pg_get_constraintdef`): applying a generated migration and generating
/// again gives nothing. All of it happens in one transaction that is
/// rolled back; nothing in the database changes. Run it as the schema
/// owner (it needs `CREATE` on the database for the scratch schema, and
/// `CREATEROLE` only if the schema's group roles do not exist yet), on a
/// connection that is not inside a transaction. It takes no lock on the
/// live tables, except with [`GenerateOptions::renames`]: the renames are
/// made (and rolled back) in that transaction so that the server rewrites
/// every definition that names them, which locks the renamed tables for
/// that moment.
///
/// # What it covers
///
/// - tables added (rendered exactly as [`Schema::create_sql`] renders
///   them, in foreign-key order) and dropped;
/// - columns added and dropped, renamed when [`GenerateOptions::renames`]
///   says so (tables too), type changes (`USING col::new_type`, through
///   `text` for enums), length changes, `NOT NULL` and defaults;
/// - indexes (partial, descending, other methods: compared by definition;
///   a changed one is dropped and created, a renamed one renamed), primary,
///   unique and foreign keys (composite, with their actions), CHECK
///   constraints the models define;
/// - enum types: created, dropped, new labels, labels dropped or
///   reordered (the type is recreated);
/// - row-level security enabled and forced, policies compared by their
///   normalized expressions (a policy renamed by hand with the same rule is
///   no change; one edited under its name is dropped and created), grants
///   on tables and columns (extra ones revoked), the `updated_at` trigger
///   and its `tenant_model_touch` function, table comments.
///
/// # Enum values
///
/// A label added to an existing enum is added with `ALTER TYPE ... ADD
/// VALUE`, which cannot be used in the transaction that adds it. Those
/// statements go into a migration of their own, `<version>_<name>_enum_values`,
/// which runs (and commits) before the main one, `<version + 1s>_<name>`,
/// so a default or a row using the new label in the main one works. Its
/// `down` recreates the type without the labels.
///
/// # Destructive steps
///
/// Dropping a table or a column, narrowing a type (a shorter `varchar`, a
/// smaller integer, `text` to `varchar(n)`, any conversion that is not a
/// widening) and dropping an enum label lose data. Without
/// [`GenerateOptions::allow_destructive`] they are refused with
/// [`GenerateError::Destructive`] listing them; with it each is preceded
/// in `up.sql` by `-- tenant-model: destructive`. A `down` that restores a
/// dropped column or table restores it empty, and says so.
///
/// # Not covered
///
/// What the models do not define is never changed, and each thing is
/// reported as a line of [`Generated::unexpressible`]: tables tenant-model
/// did not create (a table counts as created by it when it has the
/// `tenant_model_touch` trigger; such tables the models no longer define
/// are dropped), triggers calling other functions, CHECK and EXCLUDE
/// constraints the models do not define, identity, generated and
/// domain-typed columns, other functions, enum types nothing managed uses,
/// views, sequences and foreign tables. The migrations ledger
/// (`tenant_model_migrations`) and extension objects are ignored. Column
/// order is not compared (PostgreSQL cannot reorder columns).
///
/// # Errors
///
/// [`GenerateError::Destructive`], [`GenerateError::Rename`] (a rename
/// that does not fit the live schema), [`GenerateError::NoCurrentSchema`],
/// [`GenerateError::UnsupportedTarget`] for a schema emitted for Citus,
/// [`Error::Schema`] when the models cannot be emitted together, or a
/// database error.
///
/// ```no_run
/// # async fn f(mut client: tokio_postgres::Client) -> Result<(), tenant_model::Error> {
/// use tenant_model::migrate::{self, GenerateOptions, Rename};
/// use tenant_model::prelude::*;
///
/// let schema = Schema::new(); // your models: .model::<User>()...
/// let options = GenerateOptions {
///     allow_destructive: false,
///     renames: vec![Rename::column("users", "name", "full_name")],
/// };
/// let generated = migrate::generate(&mut client, &schema, &options).await?;
/// for line in &generated.unexpressible {
///     eprintln!("not migrated: {line}");
/// }
/// if !generated.is_empty() {
///     let folders = generated.write("migrations".as_ref(), "rename_user_name", chrono::Utc::now())?;
///     println!("wrote {folders:?}");
/// }
/// # Ok(()) }
/// ```
pub async fn generate(
    client: &mut Client,
    schema: &Schema,
    options: &GenerateOptions,
) -> Result<Generated, Error> {
    if schema.emits_for() != crate::Target::Postgres {
        return Err(GenerateError::UnsupportedTarget(schema.emits_for()).into());
    }
    schema.check()?;
    let client: &Client = client;
    client.batch_execute("BEGIN").await?;
    let inspected = inspect(client, schema, &options.renames).await;
    let rollback = client.batch_execute("ROLLBACK").await;
    let sides = inspected?;
    rollback?;
    build(&sides, schema, options)
}

/// The live schema before and after the renames, and the expected one.
struct Sides {
    before: Catalog,
    live: Catalog,
    expected: Catalog,
}

async fn inspect(client: &Client, schema: &Schema, renames: &[Rename]) -> Result<Sides, Error> {
    let row = client
        .query_one("SELECT current_schema()::text", &[])
        .await?;
    let namespace: String =
        decode::<Option<String>>(&row, 0)?.ok_or(GenerateError::NoCurrentSchema)?;
    set_search_path(client, &namespace).await?;
    let before = read_namespace(client, &namespace).await?;
    let live = if renames.is_empty() {
        before.clone()
    } else {
        // Renamed in the rolled-back transaction: the server rewrites every
        // definition that names them, and the reader sees the result.
        for rename in renames {
            check_rename(client, rename).await?;
            client.batch_execute(&rename_sql(rename, false)).await?;
        }
        read_namespace(client, &namespace).await?
    };
    let expected = shadow::expected(client, schema).await?;
    Ok(Sides {
        before,
        live,
        expected,
    })
}

/// Fails unless the rename's source exists and its target does not.
async fn check_rename(client: &Client, rename: &Rename) -> Result<(), Error> {
    let (exists, taken, what) = match rename {
        Rename::Table { from, to } => (
            table_exists(client, from).await?,
            table_exists(client, to).await?,
            format!("table {from}"),
        ),
        Rename::Column { table, from, to } => (
            column_exists(client, table, from).await?,
            column_exists(client, table, to).await?,
            format!("column {table}.{from}"),
        ),
    };
    let reason = if !exists {
        format!("there is no {what} in the live schema")
    } else if taken {
        "its new name is taken in the live schema".to_owned()
    } else {
        return Ok(());
    };
    Err(GenerateError::Rename {
        rename: rename.to_string(),
        reason,
    }
    .into())
}

async fn table_exists(client: &Client, table: &str) -> Result<bool, Error> {
    let row = client
        .query_one(
            "SELECT count(*) > 0 FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')",
            &[&table],
        )
        .await?;
    decode(&row, 0)
}

async fn column_exists(client: &Client, table: &str, column: &str) -> Result<bool, Error> {
    let row = client
        .query_one(
            "SELECT count(*) > 0 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace \
             AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
            &[&table, &column],
        )
        .await?;
    decode(&row, 0)
}

/// `ALTER TABLE ... RENAME ...`, or its reverse.
fn rename_sql(rename: &Rename, reverse: bool) -> String {
    match rename {
        Rename::Table { from, to } => {
            let (a, b) = if reverse { (to, from) } else { (from, to) };
            format!("ALTER TABLE {} RENAME TO {};", ident(a), ident(b))
        }
        Rename::Column { table, from, to } => {
            let (a, b) = if reverse { (to, from) } else { (from, to) };
            format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {};",
                ident(table),
                ident(a),
                ident(b)
            )
        }
    }
}

fn rename_steps(renames: &[Rename], reverse: bool) -> Vec<Step> {
    let sql = |r: &Rename| Step {
        phase: diff::Phase::Types,
        sql: rename_sql(r, reverse),
        destructive: None,
        note: None,
    };
    if reverse {
        renames.iter().rev().map(sql).collect()
    } else {
        renames.iter().map(sql).collect()
    }
}

/// `catalog` with the labels `expected` adds to its enums (and nothing
/// else of `expected`): the schema after the enum-values migration.
fn with_new_labels(catalog: &Catalog, expected: &Catalog) -> Catalog {
    let mut out = catalog.clone();
    for (name, labels) in &mut out.enums {
        if let Some(wanted) = expected.enums.get(name) {
            if diff::only_adds(labels, wanted) {
                labels.clone_from(wanted);
            }
        }
    }
    out
}

fn build(sides: &Sides, schema: &Schema, options: &GenerateOptions) -> Result<Generated, Error> {
    let (live, unexpressible) = managed::managed(&sides.live, &sides.expected);
    let (before, _) = managed::managed(&sides.before, &sides.expected);
    let expected = &sides.expected;
    let live_valued = with_new_labels(&live, expected);
    let before_valued = with_new_labels(&before, expected);

    let values_up = diff::plan(&live, &live_valued, EnumMode::AddValue, Direction::Up, None);
    let values_down = diff::plan(
        &before_valued,
        &before,
        EnumMode::Recreate,
        Direction::Down,
        None,
    );
    let mut main_up = rename_steps(&options.renames, false);
    main_up.extend(diff::plan(
        &live_valued,
        expected,
        EnumMode::AddValue,
        Direction::Up,
        Some(schema),
    ));
    let mut main_down = diff::plan(
        expected,
        &live_valued,
        EnumMode::Recreate,
        Direction::Down,
        None,
    );
    main_down.extend(rename_steps(&options.renames, true));

    let destructive: Vec<String> = values_up
        .iter()
        .chain(&main_up)
        .filter_map(|s| s.destructive.clone())
        .collect();
    if !destructive.is_empty() && !options.allow_destructive {
        return Err(GenerateError::Destructive {
            changes: destructive,
        }
        .into());
    }
    let mut migrations = Vec::new();
    let version = env!("CARGO_PKG_VERSION");
    if !values_up.is_empty() {
        migrations.push(migration(
            "_enum_values",
            &format!("Generated by tenant-model {version}: new enum values, committed before the migration that uses them."),
            &values_up,
            &values_down,
        ));
    }
    if !main_up.is_empty() {
        migrations.push(migration(
            "",
            &format!("Generated by tenant-model {version}."),
            &main_up,
            &main_down,
        ));
    }
    Ok(Generated {
        migrations,
        unexpressible,
    })
}

fn migration(suffix: &str, header: &str, up: &[Step], down: &[Step]) -> GeneratedMigration {
    GeneratedMigration {
        name_suffix: suffix.to_owned(),
        up: output::render(header, false, up),
        down: output::render(
            "Reverts the migration of the same name. Tables and columns it restores come back empty.",
            false,
            down,
        ),
        no_transaction: false,
        destructive: up.iter().any(|s| s.destructive.is_some()),
    }
}
