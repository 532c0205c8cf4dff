//! `status`: each migration of the files and of the ledger, and what state
//! it is in.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::files::Migrations;
use super::ledger::LedgerRow;

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied, and its `up.sql` is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but its `up.sql` changed since (`up` and `down` refuse to
    /// run until it is restored).
    Changed,
    /// Applied, but not among the files.
    Missing,
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Changed => "CHANGED",
            MigrationState::Missing => "MISSING",
        })
    }
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The version.
    pub version: i64,
    /// The name (the ledger's, for a missing migration).
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
    /// When it was applied (`None` when pending).
    pub applied_at: Option<DateTime<Utc>>,
    /// How long it took (`None` when pending).
    pub duration: Option<Duration>,
}

/// The files and the ledger, merged by version.
pub(crate) fn merge(migrations: &Migrations, ledger: &[LedgerRow]) -> Vec<MigrationStatus> {
    let mut out: Vec<MigrationStatus> = migrations
        .iter()
        .map(|m| {
            let row = ledger.iter().find(|r| r.version == m.version());
            let state = match row {
                None => MigrationState::Pending,
                Some(r) if r.checksum == m.checksum() => MigrationState::Applied,
                Some(_) => MigrationState::Changed,
            };
            line(m.version(), m.name(), state, row)
        })
        .collect();
    out.extend(
        ledger
            .iter()
            .filter(|r| migrations.get(r.version).is_none())
            .map(|r| line(r.version, &r.name, MigrationState::Missing, Some(r))),
    );
    out.sort_by_key(|s| s.version);
    out
}

fn line(
    version: i64,
    name: &str,
    state: MigrationState,
    row: Option<&LedgerRow>,
) -> MigrationStatus {
    MigrationStatus {
        version,
        name: name.to_owned(),
        state,
        applied_at: row.map(|r| r.applied_at),
        duration: row.map(|r| Duration::from_millis(u64::try_from(r.duration_ms).unwrap_or(0))),
    }
}

/// `status` as a table, one migration a line.
///
/// ```
/// use tenant_model::migrate::{MigrationState, MigrationStatus, StatusTable};
///
/// let lines = [MigrationStatus {
///     version: 20240101000000,
///     name: "init".into(),
///     state: MigrationState::Pending,
///     applied_at: None,
///     duration: None,
/// }];
/// let table = StatusTable(&lines).to_string();
/// assert!(table.contains("20240101000000  init  pending"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StatusTable<'a>(pub &'a [MigrationStatus]);

impl fmt::Display for StatusTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "no migrations");
        }
        let name_width = self
            .0
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "{:<14}  {:<name_width$}  {:<7}  {:<23}  duration",
            "version", "name", "state", "applied at"
        )?;
        for s in self.0 {
            let applied_at = s
                .applied_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            let duration = s
                .duration
                .map(|d| format!("{} ms", d.as_millis()))
                .unwrap_or_default();
            let row = format!(
                "{:<14}  {:<name_width$}  {:<7}  {:<23}  {}",
                s.version, s.name, s.state, applied_at, duration
            );
            writeln!(f, "{}", row.trim_end())?;
        }
        Ok(())
    }
}
