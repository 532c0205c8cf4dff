//! The command line's grammar (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::migrate::Rename;

/// `<program> migrate ... | print-schema`.
#[derive(Debug, Clone, Parser)]
#[command(about = "Migrations and schema of a tenant-model application", long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the first one is the program's name): what [`run_from`](super::run_from)
    /// does, for callers that run the command themselves ([`execute`](super::execute)).
    ///
    /// # Errors
    ///
    /// clap's error (usage, or `--help`), which prints itself.
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Cli as Parser>::try_parse_from(args)
    }
}

/// The top-level commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply, revert, inspect or generate migrations (DATABASE_URL: the
    /// schema owner's URL).
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Print the models' full DDL (row-level security included).
    PrintSchema(PrintSchemaArgs),
}

/// `print-schema`.
#[derive(Debug, Clone, Default, Args)]
pub struct PrintSchemaArgs {
    /// The DDL for a Citus cluster (run on the coordinator): reference and
    /// distributed tables, no triggers (see the guide's Citus chapter).
    #[arg(long)]
    pub citus: bool,
}

/// `migrate <...>`.
#[derive(Debug, Clone, Subcommand)]
pub enum MigrateCommand {
    /// Diff the live database against the models and write an up and a
    /// down migration.
    Generate(GenerateArgs),
    /// Apply the pending migrations (all, or up to --to).
    Up(UpArgs),
    /// Revert the last migration (or all newer than --to, or --all).
    Down(DownArgs),
    /// List each migration: applied, pending, changed or missing.
    Status(FilesArgs),
    /// Record the migrations (or those up to --to) as applied without
    /// running them: for adopting an existing database.
    Baseline(BaselineArgs),
}

/// Where the migration files are.
#[derive(Debug, Clone, Default, Args)]
pub struct FilesArgs {
    /// Read the migrations from this folder instead of those built into
    /// the program.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `migrate generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// The migration's name ([a-z0-9_]+).
    pub name: String,
    /// The migrations folder to write to (default: the program's own
    /// migrations folder, else `migrations`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Also generate destructive steps (drop a table or column, narrow a
    /// type, drop an enum value).
    #[arg(long)]
    pub allow_destructive: bool,
    /// A renamed column, `table.old=new`, or a renamed table, `old=new`
    /// (repeatable). Without it a rename reads as a drop and an add.
    #[arg(long = "rename", value_name = "TABLE.OLD=NEW", value_parser = parse_rename)]
    pub renames: Vec<Rename>,
}

/// The options `up` and `down` share.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Print the SQL that would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long DDL may wait for a lock before the migration fails
    /// (`5s`, `500ms`, `1m`; `0` waits forever).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Where the migration files are.
    #[command(flatten)]
    pub files: FilesArgs,
}

/// `migrate up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Apply up to and including this version.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,
    /// Dry run, lock timeout, files.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `migrate down`.
#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Revert every migration newer than this version (it stays applied).
    #[arg(long, value_name = "VERSION", conflicts_with = "all")]
    pub to: Option<i64>,
    /// Revert every applied migration.
    #[arg(long)]
    pub all: bool,
    /// Dry run, lock timeout, files.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `migrate baseline`.
#[derive(Debug, Clone, Args)]
pub struct BaselineArgs {
    /// Record up to and including this version.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,
    /// Where the migration files are.
    #[command(flatten)]
    pub files: FilesArgs,
}

fn parse_rename(s: &str) -> Result<Rename, String> {
    s.parse()
        .map_err(|e: crate::migrate::GenerateError| e.to_string())
}

/// `5s`, `500ms`, `2m`, or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{s}`: expected a duration such as 5s, 500ms or 1m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" | "min" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!(
            "`{s}`: expected a duration such as 5s, 500ms or 1m"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_parses_each_command() {
        Cli::command_for_test().debug_assert();
        let cli = Cli::try_parse_from([
            "app",
            "migrate",
            "up",
            "--to",
            "20240101000000",
            "--dry-run",
        ])
        .unwrap();
        match cli.command {
            Command::Migrate(MigrateCommand::Up(up)) => {
                assert_eq!(up.to, Some(20240101000000));
                assert!(up.run.dry_run);
                assert_eq!(up.run.lock_timeout, Duration::from_secs(5));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "app",
            "migrate",
            "generate",
            "add_x",
            "--rename",
            "users.name=full_name",
            "--allow-destructive",
        ])
        .unwrap();
        match cli.command {
            Command::Migrate(MigrateCommand::Generate(g)) => {
                assert_eq!(g.renames, [Rename::column("users", "name", "full_name")]);
                assert!(g.allow_destructive);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from(["app", "migrate", "generate", "x", "--rename", "users.name"])
                .is_err()
        );
        let cli = Cli::try_parse_from(["app", "migrate", "generate", "x", "--rename", "a=b"]);
        match cli.map(|c| c.command) {
            Ok(Command::Migrate(MigrateCommand::Generate(g))) => {
                assert_eq!(g.renames, [Rename::table("a", "b")]);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["app", "migrate", "down", "--to", "1", "--all"]).is_err());
        assert!(matches!(
            Cli::try_parse_from(["app", "print-schema"])
                .unwrap()
                .command,
            Command::PrintSchema(PrintSchemaArgs { citus: false })
        ));
        assert!(matches!(
            Cli::try_parse_from(["app", "print-schema", "--citus"])
                .unwrap()
                .command,
            Command::PrintSchema(PrintSchemaArgs { citus: true })
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("s").is_err());
    }

    impl Cli {
        fn command_for_test() -> clap::Command {
            <Cli as clap::CommandFactory>::command()
        }
    }
}
