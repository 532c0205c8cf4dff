//! The live schema as the catalog holds it, normalized so that two
//! databases (or the live schema and the one the models describe) compare
//! with `==`.
//!
//! One reader serves both sides of a diff: [`Catalog::read`] reads one
//! namespace (PostgreSQL schema) from `pg_catalog`, with every expression,
//! type, constraint and index deparsed by the server itself (`format_type`,
//! `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`,
//! `pg_get_triggerdef`). Names come out unqualified when the namespace is on
//! the session's `search_path`, so the reader sets it to the namespace it
//! reads (inside a transaction, `SET LOCAL`).

pub(crate) mod read;

use std::collections::BTreeMap;

pub use crate::audit::CatalogPolicy;

/// The objects of one namespace that autogenerate compares: tables (with
/// their columns, keys, indexes, triggers, row-level security, policies and
/// grants), enum types and functions, plus the names of other relations
/// (views, sequences, ...) it does not manage.
///
/// The migrations ledger `tenant_model_migrations` and objects that belong
/// to extensions are left out. Column order is not compared (PostgreSQL
/// cannot reorder columns, and a column a `down` migration re-adds comes
/// last): see [`CatalogTable`]'s `PartialEq`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Catalog {
    /// Tables by name.
    pub tables: BTreeMap<String, CatalogTable>,
    /// Enum types by name: their labels in sort order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Functions and procedures by `name(argument types)`.
    pub functions: BTreeMap<String, CatalogFunction>,
    /// Other relations, as `"view reports"`, `"sequence counters"`, ...
    pub others: Vec<String>,
}

/// One table as the catalog holds it.
#[derive(Debug, Clone, Eq)]
#[non_exhaustive]
pub struct CatalogTable {
    /// The table's name.
    pub name: String,
    /// Columns in table (`attnum`) order.
    pub columns: Vec<CatalogColumn>,
    /// Primary key, unique, foreign key, check and exclusion constraints,
    /// by name.
    pub constraints: Vec<CatalogConstraint>,
    /// Indexes that no constraint owns, by name.
    pub indexes: Vec<CatalogIndex>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub rls_enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub rls_forced: bool,
    /// Row-level security policies, by name.
    pub policies: Vec<CatalogPolicy>,
    /// Privileges granted to roles other than the owner, sorted.
    pub grants: Vec<Grant>,
    /// Triggers (not the internal ones of foreign keys), by name.
    pub triggers: Vec<CatalogTrigger>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
}

impl CatalogTable {
    /// A table with this name and nothing in it.
    pub(crate) fn empty(name: String) -> CatalogTable {
        CatalogTable {
            name,
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            rls_enabled: false,
            rls_forced: false,
            policies: Vec::new(),
            grants: Vec::new(),
            triggers: Vec::new(),
            comment: None,
        }
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&CatalogColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn sorted_columns(&self) -> Vec<&CatalogColumn> {
        let mut columns: Vec<&CatalogColumn> = self.columns.iter().collect();
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        columns
    }
}

/// Equal when everything but the order of the columns is equal.
impl PartialEq for CatalogTable {
    fn eq(&self, other: &CatalogTable) -> bool {
        self.name == other.name
            && self.sorted_columns() == other.sorted_columns()
            && self.constraints == other.constraints
            && self.indexes == other.indexes
            && self.rls_enabled == other.rls_enabled
            && self.rls_forced == other.rls_forced
            && self.policies == other.policies
            && self.grants == other.grants
            && self.triggers == other.triggers
            && self.comment == other.comment
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogColumn {
    /// The column's name.
    pub name: String,
    /// Its type as `format_type` prints it (`character varying(255)`,
    /// `user_role[]`, `timestamp with time zone`).
    pub sql_type: String,
    /// No `NOT NULL`.
    pub nullable: bool,
    /// The default expression as `pg_get_expr` prints it.
    pub default: Option<String>,
    /// The enum type of the column (or of its array elements) when that
    /// enum is in the namespace read.
    pub enum_type: Option<String>,
    /// What autogenerate cannot manage about the column, if anything
    /// (`"an identity column"`, `"a generated column"`, `"of a domain type"`).
    pub unmanaged: Option<String>,
}

/// The kinds of table constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstraintType {
    /// `PRIMARY KEY`
    PrimaryKey,
    /// `UNIQUE`
    Unique,
    /// `FOREIGN KEY`
    ForeignKey,
    /// `CHECK`
    Check,
    /// `EXCLUDE`
    Exclusion,
}

/// One constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogConstraint {
    /// The constraint's name.
    pub name: String,
    /// Its kind.
    pub kind: ConstraintType,
    /// `pg_get_constraintdef`: `FOREIGN KEY (tenant_id, team_id) REFERENCES
    /// teams(tenant_id, id) ON DELETE CASCADE`.
    pub definition: String,
    /// The constrained columns, in key order.
    pub columns: Vec<String>,
    /// The referenced table of a foreign key.
    pub references: Option<String>,
}

/// One index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogIndex {
    /// The index's name.
    pub name: String,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// `pg_get_indexdef` with the table name unqualified:
    /// `CREATE INDEX idx ON users USING btree (tenant_id, created_at DESC)`.
    pub definition: String,
}

impl CatalogIndex {
    /// What the index is, without its name: `USING btree (...) WHERE ...`.
    pub fn shape(&self) -> &str {
        self.definition
            .find(" USING ")
            .map_or(self.definition.as_str(), |at| &self.definition[at + 1..])
    }
}

/// One privilege held by a role on a table, or on one of its columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Grant {
    /// The role, or `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `INSERT`, `UPDATE`, ...
    pub privilege: String,
    /// The column, for a column privilege.
    pub column: Option<String>,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
}

/// One trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogTrigger {
    /// The trigger's name.
    pub name: String,
    /// The function it calls.
    pub function: String,
    /// `pg_get_triggerdef`, with the table name unqualified.
    pub definition: String,
    /// Not `DISABLE`d.
    pub enabled: bool,
}

/// One function or procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogFunction {
    /// Its name.
    pub name: String,
    /// `pg_get_functiondef` with the name unqualified: a `CREATE OR
    /// REPLACE FUNCTION ...` statement (without the final `;`).
    pub definition: String,
}
