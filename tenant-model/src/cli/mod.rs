//! The command line (feature `cli`): migrations and the schema, wired into
//! the application's own binary in two lines.
//!
//! ```no_run
//! # mod models { pub fn schema() -> tenant_model::Schema { tenant_model::Schema::new() } }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     // Relative to the crate's Cargo.toml (usually just "migrations").
//!     let migrations = tenant_model::embed_migrations!("../examples/saas/migrations");
//!     tenant_model::cli::run(&models::schema(), &migrations).await
//! }
//! ```
//!
//! ```text
//! app migrate up [--to VERSION] [--dry-run] [--lock-timeout 5s] [--dir DIR]
//! app migrate down [--to VERSION | --all] [--dry-run] [--lock-timeout 5s] [--dir DIR]
//! app migrate status [--dir DIR]
//! app migrate baseline [--to VERSION] [--dir DIR]
//! app migrate generate <name> [--dir DIR] [--allow-destructive] [--rename table.old=new]...
//! app print-schema [--citus]
//! ```
//!
//! `migrate` connects to `DATABASE_URL`, which must be the schema owner's
//! URL (migrations create and alter tables; the application's own role
//! cannot, and should not). The migrations are those passed to [`run`]
//! (usually embedded), or read from `--dir`.
//!
//! Exit codes: `0` success; `1` failure (the error is printed to stderr),
//! and for `status`, a changed or missing migration; `2` a usage error.

mod args;
mod generate;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

pub use args::{
    BaselineArgs, Cli, Command, DownArgs, FilesArgs, GenerateArgs, MigrateCommand, PrintSchemaArgs,
    RunArgs, UpArgs,
};

use crate::migrate::{DownTarget, MigrationState, Migrations, Migrator, StatusTable, Step};
use crate::{Error, Schema};

/// Parses `std::env::args()` and runs the command; prints the outcome and
/// returns the exit code. See the [module docs](self).
pub async fn run(schema: &Schema, migrations: &Migrations) -> ExitCode {
    run_from(std::env::args_os(), schema, migrations).await
}

/// [`run`] with the arguments given (the first one is the program's name).
pub async fn run_from<I, T>(args: I, schema: &Schema, migrations: &Migrations) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let url = std::env::var("DATABASE_URL").ok();
    let mut out = std::io::stdout().lock();
    match execute(cli.command, schema, migrations, url.as_deref(), &mut out).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let mut message = format!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!("\n  caused by: {s}"));
                source = s.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command, printing to `out`; `database_url` is the owner's
/// URL (needed by `migrate`). Returns whether it succeeded (`status` fails
/// on a changed or missing migration).
///
/// # Errors
///
/// No `database_url` for `migrate`, a connection error, or the
/// operation's own error (see [`Migrator`]).
pub async fn execute(
    command: Command,
    schema: &Schema,
    migrations: &Migrations,
    database_url: Option<&str>,
    out: &mut dyn Write,
) -> Result<bool, Error> {
    let command = match command {
        Command::PrintSchema(args) => {
            let sql = if args.citus {
                schema
                    .clone()
                    .target(crate::Target::Citus)
                    .try_create_sql()?
            } else {
                schema.try_create_sql()?
            };
            write!(out, "{sql}").map_err(output)?;
            return Ok(true);
        }
        Command::Migrate(command) => command,
    };
    let url = database_url.ok_or_else(|| {
        Error::NoDatabase("DATABASE_URL is not set: give the schema owner's URL".to_owned())
    })?;
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    let result = migrate(command, schema, migrations, &mut client, out).await;
    drop(client);
    let _ = connection.await;
    result
}

async fn migrate(
    command: MigrateCommand,
    schema: &Schema,
    embedded: &Migrations,
    client: &mut tokio_postgres::Client,
    out: &mut dyn Write,
) -> Result<bool, Error> {
    let files = |args: &FilesArgs| -> Result<Option<Migrations>, Error> {
        args.dir.as_ref().map(Migrations::from_dir).transpose()
    };
    match command {
        MigrateCommand::Generate(args) => {
            let dir = args
                .dir
                .clone()
                .or_else(|| embedded.dir().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("migrations"));
            let report = generate::generate(client, schema, &dir, &args).await?;
            write!(out, "{report}").map_err(output)?;
        }
        MigrateCommand::Up(args) => {
            let loaded = files(&args.run.files)?;
            let migrator = Migrator::new(loaded.as_ref().unwrap_or(embedded))
                .lock_timeout(args.run.lock_timeout);
            if args.run.dry_run {
                write!(out, "{}", migrator.up_dry_run(client, args.to).await?).map_err(output)?;
            } else {
                let steps = migrator.up(client, args.to).await?;
                print_steps(
                    out,
                    &steps,
                    "applied",
                    "nothing to apply: the database is up to date",
                )?;
            }
        }
        MigrateCommand::Down(args) => {
            let loaded = files(&args.run.files)?;
            let migrator = Migrator::new(loaded.as_ref().unwrap_or(embedded))
                .lock_timeout(args.run.lock_timeout);
            let target = match (args.to, args.all) {
                (Some(version), _) => DownTarget::To(version),
                (None, true) => DownTarget::All,
                (None, false) => DownTarget::One,
            };
            if args.run.dry_run {
                write!(out, "{}", migrator.down_dry_run(client, target).await?).map_err(output)?;
            } else {
                let steps = migrator.down(client, target).await?;
                print_steps(out, &steps, "reverted", "nothing to revert")?;
            }
        }
        MigrateCommand::Status(args) => {
            let loaded = files(&args)?;
            let status = Migrator::new(loaded.as_ref().unwrap_or(embedded))
                .status(client)
                .await?;
            write!(out, "{}", StatusTable(&status)).map_err(output)?;
            let drift = status
                .iter()
                .filter(|s| matches!(s.state, MigrationState::Changed | MigrationState::Missing))
                .count();
            if drift > 0 {
                writeln!(out, "{drift} applied migration(s) changed or missing: `migrate up` and `migrate down` refuse to run").map_err(output)?;
                return Ok(false);
            }
        }
        MigrateCommand::Baseline(args) => {
            let loaded = files(&args.files)?;
            let steps = Migrator::new(loaded.as_ref().unwrap_or(embedded))
                .baseline(client, args.to)
                .await?;
            print_steps(
                out,
                &steps,
                "recorded as applied (not run)",
                "nothing to record: every migration is applied",
            )?;
            writeln!(
                out,
                "`migrate generate <name>` shows whether the live schema still differs from the models"
            )
            .map_err(output)?;
        }
    }
    Ok(true)
}

fn print_steps(
    out: &mut dyn Write,
    steps: &[Step],
    done: &str,
    nothing: &str,
) -> Result<(), Error> {
    if steps.is_empty() {
        writeln!(out, "{nothing}").map_err(output)?;
    }
    for step in steps {
        writeln!(
            out,
            "{done} {}_{} ({} ms)",
            step.version,
            step.name,
            step.duration.as_millis()
        )
        .map_err(output)?;
    }
    Ok(())
}

fn output(source: std::io::Error) -> Error {
    crate::migrate::MigrationError::Io {
        path: PathBuf::from("<stdout>"),
        source,
    }
    .into()
}
