//! The runner: applies and reverts migrations under the advisory lock, one
//! transaction each, the ledger row written in the same transaction.

use std::fmt;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::error::MigrationError;
use super::files::{Migration, Migrations};
use super::ledger::{self, LedgerRow};
use super::lock::{self, DEFAULT_LOCK_KEY};
use super::script::Script;
use crate::Error;

/// The default `lock_timeout` for the DDL of a migration.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Which migrations `down` reverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// The last applied one.
    One,
    /// Every applied one newer than this version (which stays applied).
    To(i64),
    /// Every applied one.
    All,
}

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `up.sql`.
    Up,
    /// `down.sql`.
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// A migration the runner applied, reverted or (`baseline`) recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The migration's version.
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long its SQL took (zero for `baseline`).
    pub duration: Duration,
}

/// What a dry run found would run, in order. `Display` prints it as SQL
/// with a comment line heading each migration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The migrations, in the order they would run.
    pub steps: Vec<PlannedStep>,
    /// The `lock_timeout` the DDL would run with.
    pub lock_timeout: Duration,
}

/// One migration of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    /// The migration's version.
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// `up.sql` or `down.sql`.
    pub direction: Direction,
    /// The file's SQL.
    pub sql: String,
    /// Whether it would run outside a transaction.
    pub no_transaction: bool,
}

impl Plan {
    /// Whether nothing would run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return writeln!(f, "-- nothing to run");
        }
        for step in &self.steps {
            let how = if step.no_transaction {
                "outside a transaction, statement by statement"
            } else {
                "in a transaction"
            };
            let ledger = match step.direction {
                Direction::Up => "recorded in",
                Direction::Down => "removed from",
            };
            writeln!(
                f,
                "-- {}_{} ({}): {how}, lock_timeout {:?}; then {ledger} {}",
                step.version,
                step.name,
                step.direction,
                self.lock_timeout,
                ledger::LEDGER_TABLE
            )?;
            writeln!(f, "{}", step.sql.trim_end())?;
            writeln!(f)?;
        }
        Ok(())
    }
}

/// What a locked run does.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Up(Option<i64>),
    Down(DownTarget),
    Baseline(Option<i64>),
}

/// Runs a set of [`Migrations`] against a database, as the schema owner.
///
/// Every operation first checks the ledger against the files: an applied
/// migration whose `up.sql` changed ([`MigrationError::ChecksumMismatch`])
/// or that is missing from the files ([`MigrationError::Missing`]) stops
/// it before anything runs. `up`, `down` and `baseline` hold an advisory
/// lock for the whole run, so concurrent runners take turns; `status` and
/// the dry runs take no lock and change nothing (they do not even create
/// the ledger table).
///
/// ```no_run
/// use tenant_model::migrate::{DownTarget, Migrations, Migrator};
///
/// # async fn run() -> Result<(), tenant_model::Error> {
/// let migrations = Migrations::from_dir("migrations")?;
/// let (mut client, connection) =
///     tokio_postgres::connect("postgres://owner@localhost/saas", tokio_postgres::NoTls).await?;
/// tokio::spawn(connection);
///
/// let migrator = Migrator::new(&migrations);
/// print!("{}", migrator.up_dry_run(&client, None).await?);
/// for step in migrator.up(&mut client, None).await? {
///     println!("applied {}_{} in {:?}", step.version, step.name, step.duration);
/// }
/// migrator.down(&mut client, DownTarget::One).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    lock_timeout: Duration,
    lock_key: i64,
    /// [`Migrator::pooler_safe`].
    pooler_safe: bool,
}

impl<'m> Migrator<'m> {
    /// A runner for `migrations`, with a `lock_timeout` of 5 s and the
    /// default advisory lock key.
    pub fn new(migrations: &'m Migrations) -> Migrator<'m> {
        Migrator {
            migrations,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_key: DEFAULT_LOCK_KEY,
            pooler_safe: false,
        }
    }

    /// Runs through a transaction-mode connection pooler (PgBouncer with
    /// `pool_mode = transaction`): nothing outlives a transaction. Instead
    /// of one session-level advisory lock for the whole run, each
    /// migration's transaction takes the transaction-level lock
    /// (`pg_advisory_xact_lock`, the same key), reads the ledger again and
    /// skips a migration another runner has meanwhile applied (or
    /// reverted). The plan is made once, in a first transaction under the
    /// lock. A migration that must run outside a transaction
    /// (`-- tenant-model: no-transaction`) cannot: it fails with
    /// [`MigrationError::Invalid`] before anything runs. Direct connections
    /// need none of this; the default is off.
    ///
    /// ```no_run
    /// # async fn f(migrations: &tenant_model::migrate::Migrations, client: &mut tokio_postgres::Client)
    /// # -> Result<(), tenant_model::Error> {
    /// use tenant_model::migrate::Migrator;
    /// let steps = Migrator::new(migrations).pooler_safe().up(client, None).await?;
    /// # Ok(()) }
    /// ```
    pub fn pooler_safe(mut self) -> Migrator<'m> {
        self.pooler_safe = true;
        self
    }

    /// How long a migration's DDL may wait for a lock (`SET LOCAL
    /// lock_timeout`) before it fails with [`MigrationError::LockTimeout`],
    /// instead of queueing the application's queries behind it. Zero waits
    /// forever. Rounded to milliseconds.
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator<'m> {
        self.lock_timeout = timeout;
        self
    }

    /// The advisory lock key runners share ([`DEFAULT_LOCK_KEY`](super::DEFAULT_LOCK_KEY)
    /// by default): change it only to run independent sets of migrations
    /// side by side in one database.
    pub fn advisory_lock_key(mut self, key: i64) -> Migrator<'m> {
        self.lock_key = key;
        self
    }

    /// Applies the pending migrations, oldest first (with `target`, those
    /// up to and including that version). A pending migration older than
    /// an applied one (merged from another branch) is applied too.
    ///
    /// # Errors
    ///
    /// [`MigrationError`] inside [`Error::Migration`]: a changed or missing
    /// applied migration, an unknown target, a failing migration
    /// ([`MigrationError::Failed`], [`MigrationError::LockTimeout`]) which
    /// stops the run; the migrations before it stay applied.
    pub async fn up(&self, client: &mut Client, target: Option<i64>) -> Result<Vec<Step>, Error> {
        self.locked(client, Operation::Up(target)).await
    }

    /// Reverts applied migrations, newest first, running each `down.sql`
    /// and deleting its ledger row in one transaction.
    ///
    /// # Errors
    ///
    /// As [`Migrator::up`]; also [`MigrationError::MissingDown`] (checked
    /// for every migration to revert before any runs).
    pub async fn down(&self, client: &mut Client, target: DownTarget) -> Result<Vec<Step>, Error> {
        self.locked(client, Operation::Down(target)).await
    }

    /// Records the migrations (with `target`, those up to that version) as
    /// applied without running them: for adopting a database whose schema
    /// already matches them. One transaction.
    ///
    /// # Errors
    ///
    /// A changed or missing applied migration, an unknown target.
    pub async fn baseline(
        &self,
        client: &mut Client,
        target: Option<i64>,
    ) -> Result<Vec<Step>, Error> {
        self.locked(client, Operation::Baseline(target)).await
    }

    /// Runs `operation` under the advisory lock, released whatever happens.
    async fn locked(&self, client: &mut Client, operation: Operation) -> Result<Vec<Step>, Error> {
        if self.pooler_safe {
            return self.per_transaction(client, operation).await;
        }
        lock::acquire(client, self.lock_key).await?;
        let result = self.under_lock(client, operation).await;
        lock::release(client, self.lock_key).await;
        result
    }

    /// Reads the ledger (under the lock, so what another runner did is
    /// seen), checks it, plans, and runs (or, for a baseline, records in
    /// one transaction).
    async fn under_lock(
        &self,
        client: &mut Client,
        operation: Operation,
    ) -> Result<Vec<Step>, Error> {
        ledger::ensure(client).await?;
        let ledger = ledger::read(client).await?;
        let (plan, direction) = match operation {
            Operation::Up(target) => (self.plan_up(&ledger, target)?, Direction::Up),
            Operation::Down(target) => (self.plan_down(&ledger, target)?, Direction::Down),
            Operation::Baseline(target) => {
                let plan = self.plan_up(&ledger, target)?;
                let tx = client.transaction().await?;
                let mut done = Vec::with_capacity(plan.len());
                for (migration, _) in plan {
                    ledger::record(&tx, migration, Duration::ZERO).await?;
                    done.push(step(migration, Direction::Up, Duration::ZERO));
                }
                tx.commit().await?;
                return Ok(done);
            }
        };
        let mut done = Vec::with_capacity(plan.len());
        for (migration, script) in plan {
            done.push(self.run(client, migration, script, direction).await?);
        }
        Ok(done)
    }

    /// [`Migrator::pooler_safe`]: the plan in a first transaction, then one
    /// transaction per migration, each under the transaction-level lock.
    async fn per_transaction(
        &self,
        client: &mut Client,
        operation: Operation,
    ) -> Result<Vec<Step>, Error> {
        let tx = client.transaction().await?;
        lock::acquire_in_transaction(&tx, self.lock_key).await?;
        ledger::ensure(&tx).await?;
        let ledger = ledger::read(&tx).await?;
        let (plan, direction) = match operation {
            Operation::Up(target) => (self.plan_up(&ledger, target)?, Direction::Up),
            Operation::Down(target) => (self.plan_down(&ledger, target)?, Direction::Down),
            Operation::Baseline(target) => {
                let plan = self.plan_up(&ledger, target)?;
                let mut done = Vec::with_capacity(plan.len());
                for (migration, _) in plan {
                    ledger::record(&tx, migration, Duration::ZERO).await?;
                    done.push(step(migration, Direction::Up, Duration::ZERO));
                }
                tx.commit().await?;
                return Ok(done);
            }
        };
        tx.commit().await?;
        if let Some((m, _)) = plan.iter().find(|(_, script)| script.no_transaction) {
            return Err(MigrationError::Invalid {
                path: m.folder_name().into(),
                reason: "it must run outside a transaction, which a transaction-mode pooler \
                         cannot do: run it on a direct connection (without pooler_safe)"
                    .to_owned(),
            }
            .into());
        }
        let mut done = Vec::with_capacity(plan.len());
        for (m, script) in plan {
            let started = Instant::now();
            let tx = client.transaction().await?;
            lock::acquire_in_transaction(&tx, self.lock_key).await?;
            let applied = ledger::read(&tx)
                .await?
                .iter()
                .any(|row| row.version == m.version());
            if applied != (direction == Direction::Down) {
                // Another runner did it meanwhile.
                tx.commit().await?;
                continue;
            }
            tracing::info!(version = m.version(), name = m.name(), %direction, "running migration");
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = {}",
                self.lock_timeout_ms()
            ))
            .await?;
            tx.batch_execute(script.sql)
                .await
                .map_err(|e| self.failed(m, None, e))?;
            let duration = started.elapsed();
            self.update_ledger(&tx, m, direction, duration).await?;
            tx.commit().await.map_err(|e| self.failed(m, None, e))?;
            done.push(step(m, direction, duration));
        }
        Ok(done)
    }

    /// What [`Migrator::up`] would run, without running or changing
    /// anything.
    ///
    /// # Errors
    ///
    /// As [`Migrator::up`] before it runs anything.
    pub async fn up_dry_run(&self, client: &Client, target: Option<i64>) -> Result<Plan, Error> {
        let ledger = ledger::read(client).await?;
        let plan = self.plan_up(&ledger, target)?;
        Ok(self.to_plan(plan, Direction::Up))
    }

    /// What [`Migrator::down`] would run, without running or changing
    /// anything.
    ///
    /// # Errors
    ///
    /// As [`Migrator::down`] before it runs anything.
    pub async fn down_dry_run(&self, client: &Client, target: DownTarget) -> Result<Plan, Error> {
        let ledger = ledger::read(client).await?;
        let plan = self.plan_down(&ledger, target)?;
        Ok(self.to_plan(plan, Direction::Down))
    }

    /// Every migration, of the files and of the ledger, by version: applied,
    /// pending, changed since applied, or applied but missing from the
    /// files. Changes nothing, takes no lock, and reports (rather than
    /// refuses) changed and missing migrations.
    ///
    /// # Errors
    ///
    /// A database error reading the ledger.
    pub async fn status(&self, client: &Client) -> Result<Vec<super::MigrationStatus>, Error> {
        let ledger = ledger::read(client).await?;
        Ok(super::status::merge(self.migrations, &ledger))
    }

    /// Refuses to go on if an applied migration changed or is missing.
    fn verify(&self, ledger: &[LedgerRow]) -> Result<(), Error> {
        for row in ledger {
            match self.migrations.get(row.version) {
                None => {
                    return Err(MigrationError::Missing {
                        version: row.version,
                        name: row.name.clone(),
                    }
                    .into())
                }
                Some(m) if m.checksum() != row.checksum => {
                    return Err(MigrationError::ChecksumMismatch {
                        version: m.version(),
                        name: m.name().to_owned(),
                        applied: row.checksum.clone(),
                        current: m.checksum().to_owned(),
                    }
                    .into())
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The pending migrations up to `target`, their scripts read (and, for
    /// `no-transaction` ones, split) before anything runs.
    fn plan_up(
        &self,
        ledger: &[LedgerRow],
        target: Option<i64>,
    ) -> Result<Vec<(&'m Migration, Script<'m>)>, Error> {
        self.verify(ledger)?;
        if let Some(version) = target {
            if self.migrations.get(version).is_none() {
                return Err(MigrationError::UnknownTarget { version }.into());
            }
        }
        self.migrations
            .iter()
            .filter(|m| target.is_none_or(|t| m.version() <= t))
            .filter(|m| {
                ledger
                    .binary_search_by_key(&m.version(), |r| r.version)
                    .is_err()
            })
            .map(|m| {
                let script = m.up_script()?;
                checked_split(m, &script, "up.sql")?;
                Ok((m, script))
            })
            .collect()
    }

    /// The applied migrations `target` reverts, newest first, with their
    /// `down.sql` read.
    fn plan_down(
        &self,
        ledger: &[LedgerRow],
        target: DownTarget,
    ) -> Result<Vec<(&'m Migration, Script<'m>)>, Error> {
        self.verify(ledger)?;
        let newest_first = ledger.iter().rev();
        let rows: Vec<&LedgerRow> = match target {
            DownTarget::One => newest_first.take(1).collect(),
            DownTarget::All => newest_first.collect(),
            DownTarget::To(version) => {
                let known = self.migrations.get(version).is_some()
                    || ledger.iter().any(|r| r.version == version);
                if !known {
                    return Err(MigrationError::UnknownTarget { version }.into());
                }
                newest_first.filter(|r| r.version > version).collect()
            }
        };
        rows.into_iter()
            .map(|row| {
                // `verify` found every applied migration among the files.
                let m =
                    self.migrations
                        .get(row.version)
                        .ok_or_else(|| MigrationError::Missing {
                            version: row.version,
                            name: row.name.clone(),
                        })?;
                let script = m
                    .down_script()
                    .ok_or_else(|| MigrationError::MissingDown {
                        version: m.version(),
                        name: m.name().to_owned(),
                    })??;
                checked_split(m, &script, "down.sql")?;
                Ok((m, script))
            })
            .collect()
    }

    fn to_plan(&self, plan: Vec<(&Migration, Script<'_>)>, direction: Direction) -> Plan {
        Plan {
            steps: plan
                .into_iter()
                .map(|(m, script)| PlannedStep {
                    version: m.version(),
                    name: m.name().to_owned(),
                    direction,
                    sql: script.sql.to_owned(),
                    no_transaction: script.no_transaction,
                })
                .collect(),
            lock_timeout: self.lock_timeout,
        }
    }

    /// Runs one file and updates the ledger.
    async fn run(
        &self,
        client: &mut Client,
        m: &Migration,
        script: Script<'_>,
        direction: Direction,
    ) -> Result<Step, Error> {
        let started = Instant::now();
        tracing::info!(version = m.version(), name = m.name(), %direction, "running migration");
        if script.no_transaction {
            self.run_outside_transaction(client, m, script).await?;
            let duration = started.elapsed();
            self.update_ledger(&*client, m, direction, duration).await?;
            return Ok(step(m, direction, duration));
        }
        let tx = client.transaction().await?;
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = {}",
            self.lock_timeout_ms()
        ))
        .await?;
        if on_citus(&tx).await? {
            // Citus forwards DDL on a distributed table to the workers with
            // the whole query string, and refuses a string of several
            // statements there: one message per statement, still in the
            // migration's transaction.
            let statements = script
                .statements()
                .map_err(|reason| MigrationError::Invalid {
                    path: m.folder_name().into(),
                    reason: format!("on Citus a migration runs statement by statement: {reason}"),
                })?;
            for (i, statement) in statements.iter().enumerate() {
                tx.batch_execute(statement)
                    .await
                    .map_err(|e| self.failed(m, Some(i + 1), e))?;
            }
        } else {
            tx.batch_execute(script.sql)
                .await
                .map_err(|e| self.failed(m, None, e))?;
        }
        let duration = started.elapsed();
        self.update_ledger(&tx, m, direction, duration).await?;
        tx.commit().await.map_err(|e| self.failed(m, None, e))?;
        Ok(step(m, direction, duration))
    }

    async fn update_ledger(
        &self,
        client: &impl tokio_postgres::GenericClient,
        m: &Migration,
        direction: Direction,
        duration: Duration,
    ) -> Result<(), Error> {
        match direction {
            Direction::Up => ledger::record(client, m, duration).await,
            Direction::Down => ledger::remove(client, m.version()).await,
        }
    }

    /// Statement by statement, with the session's `lock_timeout` set for
    /// them and restored after.
    async fn run_outside_transaction(
        &self,
        client: &Client,
        m: &Migration,
        script: Script<'_>,
    ) -> Result<(), Error> {
        let statements = script
            .statements()
            .map_err(|reason| MigrationError::Invalid {
                path: m.folder_name().into(),
                reason,
            })?;
        let previous: String = client
            .query_one("SELECT current_setting('lock_timeout')", &[])
            .await?
            .get(0);
        client
            .batch_execute(&format!("SET lock_timeout = {}", self.lock_timeout_ms()))
            .await?;
        let mut result = Ok(());
        for (i, statement) in statements.iter().enumerate() {
            if let Err(e) = client.batch_execute(statement).await {
                result = Err(self.failed(m, Some(i + 1), e));
                break;
            }
        }
        let restored = client
            .execute("SELECT set_config('lock_timeout', $1, false)", &[&previous])
            .await;
        result?;
        restored?;
        Ok(())
    }

    /// The timeout as an integer of milliseconds (PostgreSQL's unit for
    /// `lock_timeout`); formatting an integer into the statement is safe.
    fn lock_timeout_ms(&self) -> u128 {
        self.lock_timeout.as_millis()
    }

    fn failed(
        &self,
        m: &Migration,
        statement: Option<usize>,
        source: tokio_postgres::Error,
    ) -> Error {
        let (version, name) = (m.version(), m.name().to_owned());
        if source.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
            MigrationError::LockTimeout {
                version,
                name,
                lock_timeout: self.lock_timeout,
                source,
            }
        } else {
            MigrationError::Failed {
                version,
                name,
                statement,
                source,
            }
        }
        .into()
    }
}

/// Whether the database is a Citus cluster (the extension is installed):
/// the runner is then connected to its coordinator, where the ledger is a
/// plain local table and the advisory lock the coordinator's own.
async fn on_citus(client: &impl tokio_postgres::GenericClient) -> Result<bool, Error> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
            &[],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// A `no-transaction` script must split (checked before anything runs).
fn checked_split(m: &Migration, script: &Script<'_>, file: &str) -> Result<(), Error> {
    if script.no_transaction {
        script
            .statements()
            .map_err(|reason| MigrationError::Invalid {
                path: std::path::Path::new(&m.folder_name()).join(file),
                reason,
            })?;
    }
    Ok(())
}

fn step(m: &Migration, direction: Direction, duration: Duration) -> Step {
    Step {
        version: m.version(),
        name: m.name().to_owned(),
        direction,
        duration,
    }
}
