//! Migrations: versioned SQL files, a runner with a ledger, checksums and
//! an advisory lock, and (with [`embed_migrations!`](crate::embed_migrations))
//! the files compiled into the application.
//!
//! # The files
//!
//! A folder the user commits, one folder per migration:
//!
//! ```text
//! migrations/
//!   20240101120000_init/
//!     up.sql
//!     down.sql
//!   20240215093000_add_invoice_index/
//!     up.sql          -- tenant-model: no-transaction
//!     down.sql
//! ```
//!
//! - The folder is named `<version>_<name>`: `version` is 14 digits, a UTC
//!   timestamp `YYYYMMDDHHMMSS`, so versions sort in the order they were
//!   written; `name` is `[a-z0-9_]+`. Migrations run in version order.
//! - `up.sql` is required; `down.sql` is optional (without it, `down` of
//!   that migration is an error naming it).
//! - Hidden entries and files whose names do not start with a digit (a
//!   README) are ignored; a file named like a migration is an error.
//! - Directives are comment lines `-- tenant-model: <directive>`.
//!   `-- tenant-model: no-transaction` before the first statement runs the
//!   file outside a transaction, statement by statement (split at `;`
//!   outside quotes, dollar quotes and comments): `CREATE INDEX
//!   CONCURRENTLY` and `ALTER TYPE ... ADD VALUE` (before PostgreSQL 12)
//!   need it. (A SQL-standard function body, `BEGIN ATOMIC ... END`, holds
//!   `;`s of its own: put it in a migration that runs in a transaction,
//!   which is sent to the server whole.) `-- tenant-model: destructive` marks a statement that loses
//!   data (autogenerate writes it). Another directive is an error.
//! - The checksum of a migration is the SHA-256 (lowercase hex) of the
//!   exact bytes of its `up.sql`.
//!
//! # The runner
//!
//! [`Migrator`] runs as the schema's owner on a plain
//! `tokio_postgres::Client` (never through [`Db`](crate::Db), whose pools
//! refuse owner roles on purpose):
//!
//! - The ledger table `tenant_model_migrations (version bigint PRIMARY KEY,
//!   name text, checksum text, applied_at timestamptz, duration_ms bigint)`
//!   records what ran. It is not part of the [`Schema`](crate::Schema).
//! - `up`, `down` and `baseline` hold a session-level advisory lock on the
//!   runner's connection for the whole run: several application instances
//!   starting at once take turns, and each migration is applied exactly
//!   once. A waiting runner polls (`pg_try_advisory_lock`) instead of
//!   blocking in a statement, so that a `CREATE INDEX CONCURRENTLY` in the
//!   running migration, which waits for every open transaction, does not
//!   deadlock with it.
//! - Before anything runs, every applied migration is checked against the
//!   files: a changed `up.sql` is [`MigrationError::ChecksumMismatch`], an
//!   applied migration missing from the files [`MigrationError::Missing`].
//! - Each migration runs in its own transaction, its ledger row written in
//!   the same transaction: a failing migration leaves the database and the
//!   ledger as they were ([`MigrationError::Failed`]). A `no-transaction`
//!   migration runs statement by statement, and its ledger row is written
//!   after the last one succeeds.
//! - The DDL runs with `lock_timeout` (5 s by default,
//!   [`Migrator::lock_timeout`]): a migration waiting on a busy table fails
//!   fast with [`MigrationError::LockTimeout`] instead of queueing the
//!   application's queries behind it.
//! - `down` reverts the last migration or down to a version
//!   ([`DownTarget`]), running `down.sql` and deleting the ledger row in one
//!   transaction.
//! - `status` lists each migration as applied, pending, changed or missing,
//!   with when it was applied and how long it took; the dry runs return the
//!   SQL that would run ([`Plan`]). Neither takes the lock nor changes
//!   anything (not even creating the ledger).
//! - `baseline` records the migrations as applied without running them,
//!   for adopting an existing database whose schema they describe (one
//!   transaction; `migrate generate` then shows what still differs).
//! - A pending migration older than the newest applied one (merged from
//!   another branch) is applied by `up` like any other pending one.
//! - On a Citus coordinator (the `citus` extension installed) the ledger
//!   is a local table there and the lock the coordinator's; a migration
//!   that runs in a transaction is sent statement by statement inside it,
//!   because Citus refuses a string of several statements when it forwards
//!   DDL on a distributed table to the workers. Such a migration must
//!   therefore split (no `BEGIN ATOMIC` bodies). See the guide's chapter on
//!   Citus.
//!
//! ```no_run
//! use tenant_model::migrate::{Migrator, StatusTable};
//!
//! # async fn run() -> Result<(), tenant_model::Error> {
//! // Compiled into the binary: the deployed app needs no files. The path is
//! // relative to the crate's Cargo.toml (usually just "migrations").
//! let migrations = tenant_model::embed_migrations!("../examples/saas/migrations");
//! let (mut client, connection) =
//!     tokio_postgres::connect(&std::env::var("DATABASE_URL").unwrap(), tokio_postgres::NoTls).await?;
//! tokio::spawn(connection);
//!
//! let migrator = Migrator::new(&migrations);
//! migrator.up(&mut client, None).await?;
//! print!("{}", StatusTable(&migrator.status(&client).await?));
//! # Ok(()) }
//! ```
//!
//! # Autogenerate
//!
//! [`generate`] reads the live schema from `pg_catalog`, has the server
//! normalize the models' schema the same way (in a scratch schema, rolled
//! back), and diffs the two [`Catalog`]s: tables, columns, keys, indexes,
//! enum types and values, row-level security, policies (by their
//! normalized expressions), grants and the `updated_at` trigger. The
//! result is one or two [`GeneratedMigration`]s with `up` and `down` SQL,
//! which [`Generated::write`] stores in the format above.
//!
//! Autogenerate compares with plain-PostgreSQL DDL only: for a schema
//! emitted for Citus ([`Target::Citus`](crate::Target::Citus)) it refuses
//! with [`GenerateError::UnsupportedTarget`]. The first Citus migration is
//! `print-schema --citus`; later ones are written by hand.

mod catalog;
mod diff;
mod error;
mod files;
mod generate;
mod ledger;
mod lock;
mod runner;
mod script;
mod shadow;
mod status;

pub use catalog::{
    Catalog, CatalogColumn, CatalogConstraint, CatalogFunction, CatalogIndex, CatalogPolicy,
    CatalogTable, CatalogTrigger, ConstraintType, Grant,
};
pub use error::MigrationError;
#[doc(hidden)]
pub use files::EmbeddedMigration;
pub use files::{Migration, Migrations, VERSION_DIGITS};
pub use generate::{
    generate, GenerateError, GenerateOptions, Generated, GeneratedMigration, Rename,
};
pub use ledger::LEDGER_TABLE;
pub use lock::DEFAULT_LOCK_KEY;
pub use runner::{Direction, DownTarget, Migrator, Plan, PlannedStep, Step, DEFAULT_LOCK_TIMEOUT};
pub use script::{DESTRUCTIVE, DIRECTIVE, NO_TRANSACTION};
pub use status::{MigrationState, MigrationStatus, StatusTable};
