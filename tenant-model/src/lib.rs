//! # tenant-model
//!
//! Multi-tenant PostgreSQL data models that are safe by construction.
//!
//! `#[derive(TenantModel)]` turns a struct into a tenant-scoped table: the
//! derive adds `tenant_id`, `created_at`, `updated_at` (and the soft-delete
//! columns), per-tenant unique keys and indexes, composite tenant foreign
//! keys, and typed column constants. [`Schema`] emits the DDL for a set of
//! models, with row-level security that fails closed.
//!
//! ```
//! use tenant_model::prelude::*;
//!
//! #[derive(TenantModel, Debug, Clone, PartialEq)]
//! #[tenant_model(table = "notes", soft_delete)]
//! pub struct Note {
//!     #[tenant_model(primary_key)]
//!     pub id: Uuid,
//!     #[tenant_model(max_length = 200, index)]
//!     pub title: String,
//!     pub body: Option<String>,
//! }
//!
//! let sql = Schema::new().model::<Note>().create_sql();
//! assert!(sql.contains("CREATE TABLE notes ("));
//! assert!(sql.contains("ALTER TABLE notes FORCE ROW LEVEL SECURITY;"));
//! assert_eq!(Note::TITLE.name(), "title");
//! ```
//!
//! At run time a [`Db`] hands out tenant scopes. Every transaction carries
//! its tenant context (`set_config('app.tenant_id', $1, true)`, pipelined
//! with `BEGIN` and the first statement), the library's SQL filters by
//! tenant itself, and row-level security enforces the same in the database:
//!
//! ```no_run
//! # use tenant_model::prelude::*;
//! # #[derive(TenantModel, Debug, Clone, PartialEq)]
//! # #[tenant_model(table = "notes", soft_delete)]
//! # pub struct Note { #[tenant_model(primary_key)] pub id: Uuid, pub title: String }
//! # async fn demo(acme: TenantId) -> Result<(), tenant_model::Error> {
//! let db = Db::connect("postgres://app@localhost/saas").await?;
//!
//! // One round trip: BEGIN, context, INSERT ... RETURNING, COMMIT.
//! let note = db.tenant(acme).insert(Note { id: Uuid::now_v7(), title: "Hello".into() }).await?;
//! assert_eq!(note.tenant_id(), Some(acme));
//!
//! let mut tx = db.tenant(acme).begin().await?;
//! let recent = Note::query()
//!     .filter(Note::TITLE.ilike("hel%"))
//!     .order_by(Note::CREATED_AT.desc())
//!     .limit(20)
//!     .all(&mut tx)
//!     .await?;
//! tx.soft_delete::<Note>(note.id, None).await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```
//!
//! The [`guide`] walks through everything below, chapter by chapter.
//!
//! # Relationships
//!
//! Many-to-one relations come from references (`Team::ORGANIZATION` from
//! `organization_id`), one-to-many ones are declared on the parent
//! (`has_many(teams = Team)`), many-to-many ones through a link model with
//! columns of its own (`many_to_many(members = User, through =
//! Membership)`). They load in batches, one statement per relation
//! whatever the number of rows, always inside the tenant, with
//! soft-deleted rows hidden:
//!
//! ```no_run
//! # use tenant_model::prelude::*;
//! # #[derive(PgEnum, Debug, Clone, Copy, PartialEq)] pub enum Role { Admin, Member }
//! #[derive(TenantModel, Debug, Clone, PartialEq)]
//! #[tenant_model(has_many(teams = Team))]
//! pub struct Organization {
//!     #[tenant_model(primary_key)]
//!     pub id: Uuid,
//!     pub name: String,
//! }
//!
//! #[derive(TenantModel, Debug, Clone, PartialEq)]
//! #[tenant_model(many_to_many(members = User, through = Membership))]
//! pub struct Team {
//!     #[tenant_model(primary_key)]
//!     pub id: Uuid,
//!     #[tenant_model(references = Organization, on_delete = cascade)]
//!     pub organization_id: Uuid, // Team::ORGANIZATION
//!     pub name: String,
//! }
//!
//! #[derive(TenantModel, Debug, Clone, PartialEq)]
//! #[tenant_model(soft_delete, many_to_many(teams = Team, through = Membership))]
//! pub struct User {
//!     #[tenant_model(primary_key)]
//!     pub id: Uuid,
//!     pub email: String,
//! }
//!
//! #[derive(TenantModel, Debug, Clone, PartialEq)]
//! #[tenant_model(link(User, Team))]
//! pub struct Membership {
//!     #[tenant_model(primary_key, references = User, on_delete = cascade)]
//!     pub user_id: Uuid,
//!     #[tenant_model(primary_key, references = Team, on_delete = cascade)]
//!     pub team_id: Uuid,
//!     pub role: Role,
//! }
//!
//! # async fn demo(mut tx: Tx, ann: Record<User>, red: Record<Team>) -> Result<(), Error> {
//! // One row: its organization (None if the reference is NULL or deleted).
//! let org: Option<Record<Organization>> = red.load(Team::ORGANIZATION, &mut tx).await?;
//! // A batch, nested: three statements for any number of organizations.
//! let orgs = Organization::query()
//!     .with(Organization::TEAMS.with(Team::MEMBERS))
//!     .all(&mut tx)
//!     .await?;
//! for team in &orgs[0].related {
//!     for member in &team.related {
//!         println!("{}: {} is {:?}", team.name, member.email, member.link.role);
//!     }
//! }
//! // Links, and filters across relations.
//! let link = Membership { user_id: ann.id, team_id: red.id, role: Role::Admin };
//! User::TEAMS.attach(&mut tx, ann.id, red.id, link).await?;
//! let busy = Organization::query()
//!     .filter(Organization::TEAMS.any(Team::NAME.eq("red")))
//!     .all(&mut tx)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Soft-deleting a row also soft-deletes, in the same transaction, the rows
//! of its declared relations whose foreign key has `on_delete = cascade`
//! and whose model has `soft_delete`; restoring it brings back exactly
//! those. See [`Executor::soft_delete`] and [`Loaded`].
//!
//! # The security model
//!
//! Row-level security does not hold against a superuser, a role with
//! `BYPASSRLS`, or the tables' owner (or a member of the owner's role),
//! who can switch it off. The application connects as a login role that is
//! a member of the application role (`tenant_model_app`) and nothing more;
//! the migrations run as the owner.
//!
//! - [`Db::connect`] and [`Db::from_pool`] read the pool's login role once
//!   (one query on the first connection) and refuse a role that can escape
//!   row-level security with [`Error::UnsafeRole`], whose message says what
//!   to do. [`Db::insecure_allow_rls_bypass`] is the loudly named opt-out
//!   for local development. There is no per-transaction `SET ROLE`: raw SQL
//!   could undo it (`RESET ROLE`), so it would be no boundary.
//! - [`Db::audit`] checks the live catalog against a [`Schema`]: the
//!   connecting role; every model table has row-level security enabled and
//!   forced and exactly the schema's policies (compared by their
//!   normalized expressions, not their names); no `TRUNCATE` grant; views
//!   over tenant tables are `security_invoker`; the application and admin
//!   roles have no `BYPASSRLS`; the server is PostgreSQL 15 or later, the
//!   oldest the emitted DDL supports. See the [`audit`] module.
//!
//! # Migrations
//!
//! Versioned SQL files (`migrations/<version>_<name>/up.sql`, `down.sql`),
//! applied by [`migrate::Migrator`] as the schema owner with a ledger,
//! checksums, an advisory lock and `lock_timeout`, compiled into the binary
//! with [`embed_migrations!`], and driven from the command line of the
//! `cli` feature (`tenant_model::cli::run(&schema, &migrations)`): see the
//! [`migrate`] module.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the derive's `::tenant_model::...` paths resolve inside this crate.
extern crate self as tenant_model;

// The crate in layers, one folder each: the model description, SQL text,
// query building, execution, schema emission, the audit and the test harness.
pub mod audit;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
mod exec;
pub mod guide;
pub mod migrate;
mod model;
mod query;
mod relation;
pub mod schema;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use sql::sql_text;

#[doc(hidden)]
pub mod __private;

/// The pool a [`Db`] runs on ([`Db::from_pool`], [`Db::pool_with`],
/// [`Db::pool`]): the crate itself, for its `Pool`, `Config`, `Manager`
/// and `RecyclingMethod`.
pub use deadpool_postgres;
pub use error::{Error, Result};
pub use exec::context::{TenantContext, SUPERUSER_CLAIM, TENANT_CLAIM};
pub use exec::db::{Db, DEFAULT_POOL_SIZE};
pub use exec::executor::Executor;
pub use exec::pool::{PoolTimeouts, TimeoutKind};
pub use exec::scope::{AdminScope, TenantScope};
pub use exec::server_mode::ServerMode;
pub use exec::session::SESSION_CLEANUP;
pub use exec::statement::STATEMENT_CACHE_SIZE;
pub use exec::statement_mode::{StatementMode, PARAM_TYPES_CACHE_SIZE};
pub use exec::tx::Tx;
pub use model::column::{AnyColumn, Column};
pub use model::column_type::{ColumnType, ScalarColumn, ScalarType, SqlType};
pub use model::key::Key;
pub use model::new_row::NewRow;
pub use model::pg_enum::{EnumDef, PgEnum};
pub use model::record::{Record, SystemColumns};
pub use model::tenant::Tenant;
pub use model::tenant_id::TenantId;
pub use model::{
    BoxedParam, ColumnDef, DefaultValue, ForeignKeyDef, IndexColumn, IndexDef, LinkDef, Model,
    ModelDef, OnDelete, Param, Scope, SoftDeleteDef, SystemColumn, UniqueDef,
};
pub use postgres_types::Json;
pub use query::changes::Changes;
pub use query::filter::{Filter, JsonText};
pub use query::operand::{JsonOperand, Operand, TextOperand};
pub use query::{Order, Query, StreamSource};
pub use relation::{
    load_related, AsRecord, BelongsTo, HasMany, Linked, Load, Loaded, ManyToMany, Nested, Relation,
    RelationDef, RelationKey, RelationKind, WithQuery,
};
pub use schema::{Schema, Target};
pub use sql::model_sql::{ModelSql, Statements};
pub use tenant_model_derive::{embed_migrations, PgEnum, TenantModel};
/// The driver under the pool, for `tokio_postgres::Config` ([`Db::pool_with`])
/// and its types.
pub use tokio_postgres;
/// A row of a raw query ([`Tx::raw_query`]), read with `row.get(i)`.
pub use tokio_postgres::Row;

/// The names most programs need: `use tenant_model::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Changes, Column, Db, Error, Executor, Filter, Json, Model, NewRow, PgEnum, Query, Record,
        Schema, Target, Tenant, TenantContext, TenantId, TenantModel, Tx,
    };
    pub use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    pub use uuid::Uuid;
}
