//! The guide: how to use tenant-model, chapter by chapter.
//!
//! Every code block here is compiled by `cargo test --doc` (those that need
//! a database are `no_run`; the integration test that runs the same path is
//! named in each chapter's source).
//!
//! 1. [Models and attributes](models): the derive, every attribute, the
//!    columns it adds.
//! 2. [Tenant scopes and transactions](scopes): one round trip, `run`,
//!    `begin`, drop is rollback, the admin scope.
//! 3. [Queries and JSONB](queries): filters, keyset pagination, raw
//!    fragments, streaming.
//! 4. [Relationships](relationships): many-to-one, one-to-many,
//!    many-to-many, eager loading, links.
//! 5. [Soft delete](soft_delete): partial unique keys, restore, the cascade.
//! 6. [Migrations](migrations): files, runner, embedding, autogenerate, the
//!    command line.
//! 7. [Testing with the harness](testing): `TestDb`, the application role,
//!    kept databases.
//! 8. [The security model](security): what the library guarantees and what
//!    it does not.
//! 9. [Behind a connection pooler](pgbouncer): PgBouncer in transaction
//!    mode, the pooler-safe statement mode, the settings that matter.
//! 10. [Scaling out with Citus](citus): the Citus target, what changes in
//!     the DDL, the server settings, migrations, routing, what the library
//!     guarantees there.

#[doc = include_str!("models.md")]
pub mod models {}

#[doc = include_str!("scopes.md")]
pub mod scopes {}

#[doc = include_str!("queries.md")]
pub mod queries {}

#[doc = include_str!("relationships.md")]
pub mod relationships {}

#[doc = include_str!("soft_delete.md")]
pub mod soft_delete {}

#[doc = include_str!("migrations.md")]
pub mod migrations {}

#[cfg_attr(feature = "testing", doc = include_str!("testing.md"))]
#[cfg_attr(
    not(feature = "testing"),
    doc = "# Testing with the harness\n\nThis chapter needs the `testing` feature: \
           build the docs with `--features testing` (docs.rs does)."
)]
pub mod testing {}

#[doc = include_str!("security.md")]
pub mod security {}

#[doc = include_str!("pgbouncer.md")]
pub mod pgbouncer {}

#[doc = include_str!("citus.md")]
pub mod citus {}
