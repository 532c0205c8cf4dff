//! The error type: one variant per failure a caller may want to handle.

use tokio_postgres::error::{DbError, SqlState};

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, as variants a caller can match.
///
/// ```
/// # fn handle(e: tenant_model::Error) -> &'static str {
/// use tenant_model::Error;
/// match e {
///     Error::NotFound { .. } => "404",
///     Error::UniqueViolation { .. } => "409: already exists",
///     Error::RowSecurity { .. } | Error::PermissionDenied { .. } => "403",
///     Error::NoTenantContext | Error::InvalidContext(_) => "401",
///     _ => "500",
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row asked for does not exist, or is not visible to this tenant.
    #[error("no {table} row matches the key")]
    NotFound {
        /// The table queried.
        table: &'static str,
    },

    /// A unique constraint rejected the write (SQLSTATE 23505).
    #[error("unique violation{}", on_constraint(.constraint))]
    UniqueViolation {
        /// The constraint's name, as PostgreSQL reports it.
        constraint: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A foreign key rejected the write (SQLSTATE 23503): the referenced
    /// row does not exist in this tenant, or is still referenced.
    #[error("foreign key violation{}", on_constraint(.constraint))]
    ForeignKeyViolation {
        /// The constraint's name.
        constraint: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A CHECK or NOT NULL constraint rejected the write (SQLSTATE 23514, 23502).
    #[error("check violation{}", on_constraint(.constraint))]
    CheckViolation {
        /// The constraint's name.
        constraint: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A row-level security policy rejected the write: the row belongs to
    /// another tenant, or there is no tenant context (SQLSTATE 42501).
    #[error("row-level security rejected the write to {}", .table.as_deref().unwrap_or("a table"))]
    RowSecurity {
        /// The table, when PostgreSQL names it.
        table: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The role lacks a privilege (SQLSTATE 42501 without RLS), e.g. the
    /// application role deleting from `tenants`.
    #[error("permission denied")]
    PermissionDenied {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A tenant-scoped operation ran without a tenant context.
    #[error("no tenant context: this operation needs a tenant scope")]
    NoTenantContext,

    /// The tenant context could not be built (missing or malformed claims).
    #[error("invalid tenant context: {0}")]
    InvalidContext(String),

    /// No connection could be had from the pool.
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),

    /// The connection failed or was closed.
    #[error("connection: {0}")]
    Connection(#[source] tokio_postgres::Error),

    /// A value from the database could not be decoded into the Rust type.
    #[error("cannot decode column {column}: {source}")]
    Decode {
        /// The column.
        column: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The query or change set is malformed (e.g. an empty update, or a
    /// system column in a change set).
    #[error("invalid query: {0}")]
    InvalidQuery(String),

    /// The transaction was already committed or rolled back.
    #[error("the transaction is already finished")]
    TransactionClosed,

    /// The admin scope was asked for, but the `Db` has no admin pool, or
    /// the caller's context is not a superuser.
    #[error("admin scope unavailable: {0}")]
    AdminUnavailable(String),

    /// A migration does not match what the database holds.
    #[error("migration conflict: {0}")]
    MigrationConflict(String),

    /// The pool's login role can escape row-level security (a superuser, a
    /// role with `BYPASSRLS`, the tables' owner or a member of its role, ...):
    /// [`crate::Db`] refuses it. The message says what to do instead.
    #[error(
        "refusing to use role {role}: {reason}. {}",
        crate::audit::UNSAFE_ROLE_ADVICE
    )]
    UnsafeRole {
        /// The login role.
        role: String,
        /// How it escapes row-level security.
        reason: crate::audit::RoleEscape,
    },

    /// No PostgreSQL server could be found or started.
    #[error("no database: {0}")]
    NoDatabase(String),

    /// Any other database error.
    #[error("database error {code}: {source}")]
    Database {
        /// The SQLSTATE code (e.g. `"22P02"`).
        code: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
}

fn on_constraint(constraint: &Option<String>) -> String {
    constraint
        .as_deref()
        .map(|c| format!(" on {c}"))
        .unwrap_or_default()
}

impl Error {
    /// Whether this is a unique violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::UniqueViolation { .. })
    }

    /// Whether this is a foreign-key violation.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Error::ForeignKeyViolation { .. })
    }

    /// Whether row-level security (or a missing privilege) rejected the operation.
    pub fn is_rejected(&self) -> bool {
        matches!(
            self,
            Error::RowSecurity { .. } | Error::PermissionDenied { .. }
        )
    }

    /// Whether no row matched.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// The violated constraint's name, when there is one.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Error::UniqueViolation { constraint, .. }
            | Error::ForeignKeyViolation { constraint, .. }
            | Error::CheckViolation { constraint, .. } => constraint.as_deref(),
            _ => None,
        }
    }

    /// The SQLSTATE code, for errors that came from the server.
    pub fn code(&self) -> Option<&str> {
        self.db_error().map(|db| db.code().code())
    }

    /// The server's error report, for errors that came from the server.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Error::UniqueViolation { source, .. }
            | Error::ForeignKeyViolation { source, .. }
            | Error::CheckViolation { source, .. }
            | Error::RowSecurity { source, .. }
            | Error::PermissionDenied { source }
            | Error::Database { source, .. }
            | Error::Decode { source, .. } => source.as_db_error(),
            _ => None,
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        let Some(db) = err.as_db_error() else {
            return Error::Connection(err);
        };
        let constraint = db.constraint().map(str::to_owned);
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            Error::UniqueViolation {
                constraint,
                source: err,
            }
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            Error::ForeignKeyViolation {
                constraint,
                source: err,
            }
        } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
            Error::CheckViolation {
                constraint,
                source: err,
            }
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            if db.message().contains("row-level security") {
                let table = db
                    .table()
                    .map(str::to_owned)
                    .or_else(|| quoted_name(db.message()));
                Error::RowSecurity { table, source: err }
            } else {
                Error::PermissionDenied { source: err }
            }
        } else {
            Error::Database {
                code: code.code().to_owned(),
                source: err,
            }
        }
    }
}

/// The first `"name"` in a server message ("... policy for table \"users\"").
fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(message[start..start + len].to_owned())
}
