//! The database the DDL is written for: plain PostgreSQL or a Citus cluster.

/// The database a [`Schema`](super::Schema) emits DDL for.
///
/// [`Target::Postgres`] (the default) is one PostgreSQL server.
/// [`Target::Citus`] is a Citus cluster's coordinator: the same tables,
/// with `tenants` and global models as reference tables and tenant models
/// distributed on `tenant_id` and colocated, written in the forms Citus
/// accepts (see [the guide's chapter on Citus](crate::guide::citus)).
///
/// ```
/// use tenant_model::prelude::*;
///
/// let citus = Schema::new().target(Target::Citus);
/// let sql = citus.create_sql();
/// assert!(sql.contains("SELECT create_reference_table('tenants');"));
/// // No trigger and no sub-select in policies: Citus refuses both.
/// assert!(!sql.contains("CREATE TRIGGER"));
/// assert!(!sql.contains("(SELECT NULLIF"));
/// assert_eq!(citus.emits_for(), Target::Citus);
///
/// // Plain PostgreSQL is the default.
/// assert_eq!(Schema::new().emits_for(), Target::Postgres);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Target {
    /// One PostgreSQL server (15 or later).
    #[default]
    Postgres,
    /// A Citus cluster (13 or later on PostgreSQL 15), applied on the
    /// coordinator.
    Citus,
}

impl Target {
    /// `"postgres"` or `"citus"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Postgres => "postgres",
            Target::Citus => "citus",
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
