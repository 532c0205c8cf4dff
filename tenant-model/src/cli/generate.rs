//! `migrate generate`: the one place the command line meets autogenerate
//! (`crate::migrate::generate`, written on another branch). Until the two
//! meet, the subcommand parses and reports [`MigrationError::GenerateUnavailable`].
//!
//! At the merge the body becomes (the API fixed for issue 7):
//!
//! ```text
//! let options = GenerateOptions {
//!     allow_destructive: args.allow_destructive,
//!     renames: args.renames.iter().map(|r| /* Rename: table r.table, column r.from -> r.to */).collect(),
//! };
//! let generated = crate::migrate::generate(client, schema, &options).await?;
//! let mut report = String::new();
//! for what in &generated.unexpressible {
//!     report.push_str(&format!("cannot be expressed as a migration: {what}\n"));
//! }
//! if generated.is_empty() {
//!     report.push_str("no changes: the database matches the models\n");
//! } else {
//!     for path in generated.write(dir, &args.name, chrono::Utc::now())? {
//!         report.push_str(&format!("wrote {}\n", path.display()));
//!     }
//! }
//! Ok(report)
//! ```

use std::path::Path;

use tokio_postgres::Client;

use super::args::GenerateArgs;
use crate::migrate::MigrationError;
use crate::{Error, Schema};

/// Diffs the live database against `schema` and writes the migration
/// folders into `dir`; returns what to print.
pub(super) async fn generate(
    client: &mut Client,
    schema: &Schema,
    dir: &Path,
    args: &GenerateArgs,
) -> Result<String, Error> {
    let _ = (client, schema, dir, args);
    Err(MigrationError::GenerateUnavailable.into())
}
