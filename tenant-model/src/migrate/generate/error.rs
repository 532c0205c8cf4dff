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
