//! The error type: one variant per failure a caller may want to handle.
//!
//! Server errors are sorted by their SQLSTATE code, which does not depend
//! on the server's `lc_messages`. Only two finer details read more than the
//! code, best-effort: whether a 42501 refusal came from row-level security
//! or from a missing privilege, and which column a 22001 value was too long
//! for (see the variants).

use tokio_postgres::error::{DbError, SqlState};

use crate::model::ModelDef;

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, as variants a caller can match.
///
/// Helpers answer the usual questions whatever the variant:
/// [`Error::is_retryable`] (serialization failure, deadlock),
/// [`Error::is_rejected`] (any access refusal, SQLSTATE 42501),
/// [`Error::is_connection_lost`], [`Error::code`] and
/// [`Error::db_error`] for the server's report.
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
    ///
    /// PostgreSQL reports RLS refusals and missing privileges with the same
    /// code; telling them apart is best-effort. A refusal is taken as RLS
    /// when the server names the routine that checks policies
    /// (`ExecWithCheckOptions`, `check_enable_rls`; not translated) or, failing
    /// that, when the message mentions "row-level security" (English
    /// `lc_messages` only). Either way [`Error::is_rejected`] is true: it
    /// reads the code alone.
    #[error("access refused: row-level security rejected the write to {}", .table.as_deref().unwrap_or("a table"))]
    RowSecurity {
        /// The table, when PostgreSQL names it (read from the message when
        /// it quotes the name in `"..."`).
        table: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// Any other access refusal (SQLSTATE 42501), e.g. the application role
    /// deleting from `tenants`, whatever language the server's message is in.
    #[error("access refused: {}", server_message(.source))]
    PermissionDenied {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The transaction could not be serialized with concurrent ones
    /// (SQLSTATE 40001, under `REPEATABLE READ` or `SERIALIZABLE`). Retry the
    /// whole transaction ([`Error::is_retryable`]).
    #[error("serialization failure, retry the transaction: {}", server_message(.source))]
    SerializationFailure {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The server broke a deadlock by aborting this transaction (SQLSTATE
    /// 40P01). Retry the whole transaction ([`Error::is_retryable`]).
    #[error("deadlock detected, retry the transaction: {}", server_message(.source))]
    Deadlock {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The statement was canceled (SQLSTATE 57014): `statement_timeout`
    /// ran out, or a cancel request (`pg_cancel_backend`, a client's cancel
    /// token) arrived. The transaction is aborted; the connection is fine.
    #[error("statement canceled: {}", server_message(.source))]
    Canceled {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A value is too long for its column (SQLSTATE 22001), e.g. 300
    /// characters for a `varchar(255)`.
    #[error("value too long{}: {}", .column.as_deref().map(|c| format!(" for column {c}")).unwrap_or_default(), server_message(.source))]
    ValueTooLong {
        /// The column, when known: as the server reports it, or, since
        /// PostgreSQL does not name it for an `INSERT` or `UPDATE`, for a
        /// typed statement on a model the one column of the model with the
        /// length limit the message names (`None` when several share it,
        /// and for raw SQL).
        column: Option<String>,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A statement ran in a transaction that an earlier error aborted
    /// (SQLSTATE 25P02). Roll back; the first error is the one to look at.
    #[error("transaction aborted by an earlier error; roll it back: {}", server_message(.source))]
    TransactionAborted {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The server ended the session: `pg_terminate_backend`, or a server
    /// shutdown (SQLSTATE 57P01). The connection is gone
    /// ([`Error::is_connection_lost`]).
    #[error("the server terminated the connection: {}", server_message(.source))]
    AdminShutdown {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The connection was lost: closed, an I/O error, a server crash
    /// (57P02) or an idle timeout (25P03, 57P05). Whether a transaction in
    /// flight committed is unknown when this comes from `COMMIT`, so it is
    /// not reported as retryable.
    #[error("connection lost: {}", server_message(.source))]
    ConnectionLost {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A prepared statement was missing on the server connection (SQLSTATE
    /// 26000) or its name was already taken there (42P05). From the
    /// library's own statements this is the mark of a transaction-mode
    /// connection pooler (PgBouncer with `pool_mode = transaction`, before
    /// 1.21 or without `max_prepared_statements`) in front of a `Db` in
    /// [`crate::StatementMode::Cached`]: the pooler ran a transaction on
    /// another server connection than the one that prepared the statement.
    /// Build the `Db` with [`crate::StatementMode::PoolerSafe`]
    /// ([`crate::Db::with_statement_mode`]). Raw SQL's own `EXECUTE` of a
    /// missing (or a second `PREPARE` of an existing) SQL-level statement
    /// gives it too. The connection is closed, not returned to the pool.
    #[error(
        "prepared statement missing or already defined on the server connection (SQLSTATE {code}): \
         behind a transaction-mode pooler such as PgBouncer (pool_mode = transaction), \
         build the Db with StatementMode::PoolerSafe (Db::with_statement_mode); server said: {}",
        server_message(.source)
    )]
    PoolerStatement {
        /// `"26000"` (statement missing) or `"42P05"` (name taken).
        code: String,
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
    Pool(#[source] deadpool_postgres::PoolError),

    /// The pool ran out of time: no free connection within the wait
    /// timeout, or opening or checking a connection took too long (see
    /// [`crate::PoolTimeouts`]).
    #[error("connection pool timed out {0}")]
    PoolTimeout(crate::TimeoutKind),

    /// Any other failure of the driver or the connection (a protocol
    /// error, a parameter that could not be encoded, ...); a lost
    /// connection is [`Error::ConnectionLost`].
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

    /// Loading or running migrations failed (see [`crate::migrate`]).
    #[error(transparent)]
    Migration(#[from] crate::migrate::MigrationError),

    /// Autogenerate refused: destructive changes without the flag, a
    /// rename that does not fit, an invalid migration name, ... (see
    /// [`crate::migrate::generate`]).
    #[error(transparent)]
    Generate(#[from] crate::migrate::GenerateError),

    /// The models cannot be emitted as one schema (two models on one
    /// table); see [`Schema::check`](crate::Schema::check).
    #[error("invalid schema: {0}")]
    Schema(#[from] crate::schema::SchemaError),

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
    #[error("database error {code}: {}", server_message(.source))]
    Database {
        /// The SQLSTATE code (e.g. `"22P02"`).
        code: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
}

/// The server's message (the driver's own display says only "db error").
fn server_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => err.to_string(),
    }
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

    /// Whether access was refused: row-level security or a missing
    /// privilege (SQLSTATE 42501). Decided by the code alone, so it holds
    /// whatever the server's `lc_messages`.
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

    /// Whether running the whole transaction again may succeed: a
    /// serialization failure (40001) or a deadlock (40P01). A lost
    /// connection is not included: if it was lost during `COMMIT`, the
    /// transaction may have committed, so only idempotent work should be
    /// retried after [`Error::is_connection_lost`].
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), tenant_model::Error> {
    /// let mut attempts = 0;
    /// let n = loop {
    ///     let result = db
    ///         .tenant(acme)
    ///         .run(async |tx| {
    ///             let rows = tx.raw_query("UPDATE counters SET n = n + 1 RETURNING n", &[]).await?;
    ///             Ok::<i64, tenant_model::Error>(rows[0].get(0))
    ///         })
    ///         .await;
    ///     match result {
    ///         Err(e) if e.is_retryable() && attempts < 3 => attempts += 1,
    ///         other => break other?,
    ///     }
    /// };
    /// # Ok(()) }
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::SerializationFailure { .. } | Error::Deadlock { .. }
        )
    }

    /// Whether the connection is gone ([`Error::ConnectionLost`],
    /// [`Error::AdminShutdown`]). The pool discards such a connection.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Error::ConnectionLost { .. } | Error::AdminShutdown { .. }
        )
    }

    /// Whether a prepared statement was missing or clashing on the server
    /// connection ([`Error::PoolerStatement`]): usually a transaction-mode
    /// pooler in front of a `Db` in the cached statement mode.
    pub fn is_pooler_statement(&self) -> bool {
        matches!(self, Error::PoolerStatement { .. })
    }

    /// Whether the statement was canceled (statement timeout or a cancel
    /// request, SQLSTATE 57014).
    pub fn is_canceled(&self) -> bool {
        matches!(self, Error::Canceled { .. })
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
            | Error::SerializationFailure { source }
            | Error::Deadlock { source }
            | Error::Canceled { source }
            | Error::ValueTooLong { source, .. }
            | Error::TransactionAborted { source }
            | Error::AdminShutdown { source }
            | Error::ConnectionLost { source }
            | Error::PoolerStatement { source, .. }
            | Error::Database { source, .. }
            | Error::Decode { source, .. } => source.as_db_error(),
            _ => None,
        }
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Timeout(kind) => Error::PoolTimeout(kind.into()),
            other => Error::Pool(other),
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        let Some(db) = err.as_db_error() else {
            return if err.is_closed() || io_error(&err) {
                Error::ConnectionLost { source: err }
            } else {
                Error::Connection(err)
            };
        };
        // A worker's error reaches the client without the constraint field:
        // its name is then read from the message.
        let constraint = db
            .constraint()
            .map(str::to_owned)
            .or_else(|| {
                from_worker(db)
                    .then(|| constraint_in(db.message()))
                    .flatten()
            })
            .map(|name| unsharded(db, &name));
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
            if is_row_security(db) {
                let table = db
                    .table()
                    .map(str::to_owned)
                    .or_else(|| quoted_name(db.message()))
                    .map(|name| unsharded(db, &name));
                Error::RowSecurity { table, source: err }
            } else {
                Error::PermissionDenied { source: err }
            }
        } else if *code == SqlState::T_R_SERIALIZATION_FAILURE {
            Error::SerializationFailure { source: err }
        } else if *code == SqlState::T_R_DEADLOCK_DETECTED {
            Error::Deadlock { source: err }
        } else if *code == SqlState::QUERY_CANCELED {
            Error::Canceled { source: err }
        } else if *code == SqlState::STRING_DATA_RIGHT_TRUNCATION {
            Error::ValueTooLong {
                column: db.column().map(str::to_owned),
                source: err,
            }
        } else if *code == SqlState::INVALID_SQL_STATEMENT_NAME
            || *code == SqlState::DUPLICATE_PSTATEMENT
        {
            Error::PoolerStatement {
                code: code.code().to_owned(),
                source: err,
            }
        } else if *code == SqlState::IN_FAILED_SQL_TRANSACTION {
            Error::TransactionAborted { source: err }
        } else if *code == SqlState::ADMIN_SHUTDOWN {
            Error::AdminShutdown { source: err }
        } else if *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT
            || *code == SqlState::IDLE_SESSION_TIMEOUT
        {
            Error::ConnectionLost { source: err }
        } else {
            Error::Database {
                code: code.code().to_owned(),
                source: err,
            }
        }
    }
}

impl Error {
    /// Names the column of a [`Error::ValueTooLong`] from a typed statement
    /// on the model `def` when the server did not: the message names the
    /// type and its limit ("character varying(120)"), and if exactly one
    /// column of the model has that limit, it is the one.
    pub(crate) fn in_model(self, def: &ModelDef) -> Error {
        match self {
            Error::ValueTooLong {
                column: None,
                source,
            } => {
                let limit = source.as_db_error().and_then(|db| type_limit(db.message()));
                let mut limited = def
                    .fields
                    .iter()
                    .filter(|f| limit.is_some() && f.max_length == limit);
                let column = match (limited.next(), limited.next()) {
                    (Some(only), None) => Some(only.name.to_owned()),
                    _ => None,
                };
                Error::ValueTooLong { column, source }
            }
            other => other,
        }
    }
}

/// Whether a 42501 came from row-level security rather than a privilege:
/// the routine that raised it (not translated), else the English message.
fn is_row_security(db: &DbError) -> bool {
    const RLS_ROUTINES: [&str; 2] = ["ExecWithCheckOptions", "check_enable_rls"];
    db.routine().is_some_and(|r| RLS_ROUTINES.contains(&r))
        || db.message().contains("row-level security")
}

/// Whether the driver failed on the socket (the connection is gone).
fn io_error(err: &tokio_postgres::Error) -> bool {
    std::error::Error::source(err).is_some_and(|s| s.is::<std::io::Error>())
}

/// The length limit of the type a message names: `120` in "value too long
/// for type character varying(120)" (the type name is not translated).
fn type_limit(message: &str) -> Option<u32> {
    let open = message.rfind('(')?;
    let close = open + message[open..].find(')')?;
    message[open + 1..close].parse().ok()
}

/// A table or constraint name as the user declared it: on Citus an error
/// raised on a worker names the shard (`users_102008`,
/// `uq_tenant_email_102008`); the shard id suffix is dropped then, and
/// only then (the coordinator adds `while executing command on <node>` as
/// the error's context).
fn unsharded(db: &tokio_postgres::error::DbError, name: &str) -> String {
    match from_worker(db) {
        true => strip_shard_id(name).to_owned(),
        false => name.to_owned(),
    }
}

/// Whether a Citus worker raised the error (the coordinator passes it on
/// with `while executing command on <node>` as its context).
fn from_worker(db: &tokio_postgres::error::DbError) -> bool {
    db.where_()
        .is_some_and(|w| w.contains("while executing command on"))
}

/// `name` without a trailing `_<digits>`.
fn strip_shard_id(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((base, id))
            if !base.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base
        }
        _ => name,
    }
}

/// The quoted name after `constraint ` in a message, else its first
/// quoted name.
fn constraint_in(message: &str) -> Option<String> {
    match message.find("constraint \"") {
        Some(at) => quoted_name(&message[at..]),
        None => quoted_name(message),
    }
}

/// The first `"name"` in a server message ("... policy for table \"users\"").
fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(message[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::{strip_shard_id, type_limit};

    #[test]
    fn shard_ids_are_stripped_from_worker_names() {
        assert_eq!(strip_shard_id("users_102008"), "users");
        assert_eq!(strip_shard_id("uq_tenant_email_102008"), "uq_tenant_email");
        assert_eq!(strip_shard_id("users"), "users");
        assert_eq!(strip_shard_id("_102008"), "_102008");
        assert_eq!(strip_shard_id("users_"), "users_");
        assert_eq!(
            super::constraint_in(
                "insert or update on table \"teams_102009\" violates foreign key constraint \"teams_organization_id_fkey_102009\""
            )
            .as_deref(),
            Some("teams_organization_id_fkey_102009")
        );
    }

    #[test]
    fn the_limit_comes_from_the_type_in_the_message() {
        assert_eq!(
            type_limit("value too long for type character varying(120)"),
            Some(120)
        );
        assert_eq!(
            type_limit("Wert zu lang für Typ character varying(5)"),
            Some(5)
        );
        assert_eq!(type_limit("value too long"), None);
        assert_eq!(type_limit("odd (x)"), None);
    }
}
