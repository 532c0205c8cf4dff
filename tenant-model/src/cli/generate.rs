//! `migrate generate`: the command line's side of autogenerate
//! ([`crate::migrate::generate`]).

use std::path::Path;

use tokio_postgres::Client;

use super::args::GenerateArgs;
use crate::migrate::GenerateOptions;
use crate::{Error, Schema};

/// Diffs the live database against `schema` and writes the migration
/// folders into `dir`; returns what to print.
pub(super) async fn generate(
    client: &mut Client,
    schema: &Schema,
    dir: &Path,
    args: &GenerateArgs,
) -> Result<String, Error> {
    let options = GenerateOptions {
        allow_destructive: args.allow_destructive,
        renames: args.renames.clone(),
    };
    let generated = crate::migrate::generate(client, schema, &options).await?;
    let mut report = String::new();
    for what in &generated.unexpressible {
        report.push_str(&format!(
            "not migrated (autogenerate cannot express it): {what}\n"
        ));
    }
    if generated.is_empty() {
        report.push_str("nothing to generate: the database matches the models\n");
        return Ok(report);
    }
    for path in generated.write(dir, &args.name, chrono::Utc::now())? {
        report.push_str(&format!("wrote {}\n", path.display()));
    }
    Ok(report)
}
