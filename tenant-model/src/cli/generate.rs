//! `migrate generate`: the one place the command line meets autogenerate
//! (`crate::migrate::generate`).

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
