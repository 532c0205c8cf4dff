//! What can go wrong loading or running migrations.

use std::path::PathBuf;
use std::time::Duration;

/// A migration problem; inside [`Error::Migration`](crate::Error::Migration).
///
/// Each variant names the migration (version and name) or the path it is
/// about, so the message alone says where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The migrations folder, or a file in it, could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A folder or file in the migrations folder is not a migration:
    /// a bad name (`<14-digit version>_<name of [a-z0-9_]>`), no `up.sql`,
    /// a file that is not UTF-8, or a statement the splitter cannot read.
    #[error("invalid migration {}: {reason}", .path.display())]
    Invalid {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Two migration folders have the same version.
    #[error("duplicate migration version {version}: {} and {}", .first.display(), .second.display())]
    DuplicateVersion {
        /// The version.
        version: i64,
        /// One folder.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },

    /// A line `-- tenant-model: ...` that is not a known directive, or a
    /// directive after the first statement.
    #[error("migration {version}_{name}: {reason}")]
    Directive {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// An applied migration's `up.sql` changed since it ran (its checksum
    /// differs from the ledger's). Restore the file: a change to the schema
    /// goes in a new migration.
    #[error(
        "migration {version}_{name} was changed after it was applied (checksum {applied} in the \
         ledger, {current} on disk); restore it and put the change in a new migration"
    )]
    ChecksumMismatch {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the file now.
        current: String,
    },

    /// The ledger records a migration that is not among the files.
    #[error("migration {version}_{name} is applied but missing from the migrations folder")]
    Missing {
        /// The migration's version.
        version: i64,
        /// The migration's name, as the ledger records it.
        name: String,
    },

    /// A migration failed; in a transaction nothing of it stayed applied.
    /// Outside one (`no-transaction`), the statements before the failing
    /// one did stay applied, and the migration is not recorded.
    #[error(
        "migration {version}_{name} failed{}: {}",
        .statement.map(|n| format!(" at statement {n}, outside a transaction (the statements before it stayed applied)")).unwrap_or_default(),
        server_message(.source)
    )]
    Failed {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// For a `no-transaction` migration, the failing statement (1-based).
        statement: Option<usize>,
        /// The server's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A migration waited longer than `lock_timeout` for a lock: a table it
    /// changes was busy. Nothing of it stayed applied (in a transaction).
    #[error(
        "migration {version}_{name} gave up after waiting {lock_timeout:?} for a lock: a table it \
         changes was busy ({}); retry when it is quieter, or raise lock_timeout",
        server_message(.source)
    )]
    LockTimeout {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// The `lock_timeout` in force.
        lock_timeout: Duration,
        /// The server's error (SQLSTATE 55P03).
        #[source]
        source: tokio_postgres::Error,
    },

    /// `down` of a migration that has no `down.sql`.
    #[error("migration {version}_{name} has no down.sql: it cannot be reverted")]
    MissingDown {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
    },

    /// A target version that is none of the migrations'.
    #[error("no migration has version {version}")]
    UnknownTarget {
        /// The version asked for.
        version: i64,
    },
}

fn server_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_owned(),
        None => err.to_string(),
    }
}
