//! What autogenerate returns, and writing it as migration folders.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use super::error::GenerateError;
use crate::error::Error;
use crate::migrate::diff::Step;

use crate::migrate::script::{DESTRUCTIVE, DIRECTIVE, NO_TRANSACTION};

/// The result of [`generate`](crate::migrate::generate): zero, one or two
/// migrations, and what the live schema holds that autogenerate does not
/// manage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Generated {
    /// The migrations, in the order they run: new enum values first (in
    /// their own migration, suffix `_enum_values`), then the rest.
    pub migrations: Vec<GeneratedMigration>,
    /// One line per difference autogenerate cannot express (and leaves
    /// alone): tables, triggers, constraints, functions, enum types, views
    /// the models do not define, and columns it cannot manage.
    pub unexpressible: Vec<String>,
}

/// One generated migration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GeneratedMigration {
    /// Appended to the migration's name: `"_enum_values"` for the enum
    /// values' migration, `""` for the main one.
    pub name_suffix: String,
    /// `up.sql`.
    pub up: String,
    /// `down.sql`.
    pub down: String,
    /// Runs outside a transaction (`-- tenant-model: no-transaction`).
    /// Autogenerate writes none such today: `ALTER TYPE ... ADD VALUE`
    /// runs in a transaction on PostgreSQL 12 and later, as long as the
    /// same transaction does not use the value.
    pub no_transaction: bool,
    /// `up` holds destructive statements (each preceded by
    /// `-- tenant-model: destructive`).
    pub destructive: bool,
}

impl Generated {
    /// Whether there is nothing to migrate. (The live schema may still
    /// hold things autogenerate leaves alone: see
    /// [`Generated::unexpressible`].)
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// Writes each migration as `<dir>/<version>_<name><suffix>/up.sql`
    /// and `down.sql`, versions being `now` as `YYYYMMDDHHMMSS` (UTC), one
    /// second later for each further migration. Creates `dir` if needed.
    /// Returns the folders written; nothing when [`Generated::is_empty`].
    ///
    /// # Errors
    ///
    /// [`GenerateError::InvalidName`] unless `name` is lower-case letters,
    /// digits and `_`; [`GenerateError::Exists`] when a folder exists
    /// (nothing is written then); [`GenerateError::Io`] when writing fails.
    pub fn write(&self, dir: &Path, name: &str, now: DateTime<Utc>) -> Result<Vec<PathBuf>, Error> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(GenerateError::InvalidName(name.to_owned()).into());
        }
        let folders: Vec<PathBuf> = self
            .migrations
            .iter()
            .zip(0i64..)
            .map(|(m, i)| {
                let version = (now + Duration::seconds(i)).format("%Y%m%d%H%M%S");
                dir.join(format!("{version}_{name}{}", m.name_suffix))
            })
            .collect();
        if let Some(taken) = folders.iter().find(|f| f.exists()) {
            return Err(GenerateError::Exists(taken.clone()).into());
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| GenerateError::Io { path, source }
        };
        for (folder, migration) in folders.iter().zip(&self.migrations) {
            std::fs::create_dir_all(folder).map_err(io(folder))?;
            for (file, text) in [("up.sql", &migration.up), ("down.sql", &migration.down)] {
                let path = folder.join(file);
                std::fs::write(&path, text).map_err(io(&path))?;
            }
        }
        Ok(folders)
    }
}

/// A migration file: a header, then each statement with its comments.
pub(super) fn render(header: &str, no_transaction: bool, steps: &[Step]) -> String {
    let mut sql = String::new();
    if no_transaction {
        sql += &format!("{DIRECTIVE} {NO_TRANSACTION}");
        sql += "\n";
    }
    for line in header.lines() {
        sql += "-- ";
        sql += line;
        sql += "\n";
    }
    for step in steps {
        sql += "\n";
        if let Some(note) = &step.note {
            sql += &format!("-- {note}\n");
        }
        if let Some(what) = &step.destructive {
            sql += &format!("-- {what}\n{DIRECTIVE} {DESTRUCTIVE}\n");
        }
        sql += &step.sql;
        sql += "\n";
    }
    sql
}
