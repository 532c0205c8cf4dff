//! Why autogenerate refused.

use std::path::PathBuf;

/// Why [`generate`](crate::migrate::generate) or
/// [`Generated::write`](crate::migrate::Generated::write) refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The migration would lose data and
    /// [`GenerateOptions::allow_destructive`](crate::migrate::GenerateOptions::allow_destructive)
    /// is off. Nothing was generated or written.
    #[error(
        "the migration would lose data; generate it with allow_destructive (`--allow-destructive`) to accept:\n  - {}",
        .changes.join("\n  - ")
    )]
    Destructive {
        /// Each destructive change, in words.
        changes: Vec<String>,
    },

    /// A [`Rename`](crate::migrate::Rename) does not fit the live schema.
    #[error("cannot rename {rename}: {reason}")]
    Rename {
        /// The rename, as `table.old=new` or `old=new`.
        rename: String,
        /// What is wrong.
        reason: String,
    },

    /// The session has no current schema (nothing on its `search_path`
    /// exists), so there is nothing to compare with.
    #[error("the session has no current schema: check its search_path")]
    NoCurrentSchema,

    /// The schema is emitted for a target autogenerate cannot diff yet
    /// ([`Target::Citus`](crate::Target::Citus)): it compares the live
    /// catalog with plain-PostgreSQL DDL only.
    #[error("`migrate generate` cannot diff a {0} schema yet: it compares with plain-PostgreSQL DDL. For the first migration, use `print-schema --citus` as up.sql (and drop the tables in reverse order in down.sql); write later Citus migrations by hand")]
    UnsupportedTarget(crate::Target),

    /// A migration name other than lower-case letters, digits and `_`.
    #[error("invalid migration name {0:?}: use lower-case letters, digits and _")]
    InvalidName(String),

    /// The migration's folder already exists.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),

    /// Writing a migration's files failed.
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
