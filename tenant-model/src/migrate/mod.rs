//! Migrations: versioned SQL files, and autogenerate, which writes them
//! from the difference between the live catalog and the models.
//!
//! [`generate`] reads the live schema from `pg_catalog`, has the server
//! normalize the models' schema the same way (in a scratch schema, rolled
//! back), and diffs the two [`Catalog`]s: tables, columns, keys, indexes,
//! enum types and values, row-level security, policies (by their
//! normalized expressions), grants and the `updated_at` trigger. The
//! result is one or two [`GeneratedMigration`]s with `up` and `down` SQL,
//! which [`Generated::write`] stores as
//! `<dir>/<YYYYMMDDHHMMSS>_<name>/up.sql` and `down.sql`.

mod catalog;
mod diff;
mod generate;
mod shadow;

pub use catalog::{
    Catalog, CatalogColumn, CatalogConstraint, CatalogFunction, CatalogIndex, CatalogPolicy,
    CatalogTable, CatalogTrigger, ConstraintType, Grant,
};
pub use generate::{
    generate, GenerateError, GenerateOptions, Generated, GeneratedMigration, Rename,
};
