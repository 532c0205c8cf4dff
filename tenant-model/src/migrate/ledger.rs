//! The ledger table: which migrations ran, with what checksum, when and how
//! long they took. It is the runner's own table, not part of the
//! [`Schema`](crate::Schema).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::files::Migration;
use crate::Error;

/// The ledger table's name (in the connection's `search_path`, normally
/// `public`).
pub const LEDGER_TABLE: &str = "tenant_model_migrations";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS tenant_model_migrations (\n    \
    version bigint PRIMARY KEY,\n    \
    name text NOT NULL,\n    \
    checksum text NOT NULL,\n    \
    applied_at timestamptz NOT NULL DEFAULT now(),\n    \
    duration_ms bigint NOT NULL\n)";

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerRow {
    pub(crate) version: i64,
    pub(crate) name: String,
    pub(crate) checksum: String,
    pub(crate) applied_at: DateTime<Utc>,
    pub(crate) duration_ms: i64,
}

/// Creates the ledger if it does not exist (under the advisory lock: two
/// concurrent `CREATE TABLE IF NOT EXISTS` can still collide).
pub(crate) async fn ensure(client: &impl GenericClient) -> Result<(), Error> {
    client.batch_execute(CREATE).await?;
    Ok(())
}

/// The ledger's rows by version; none when the table does not exist (this
/// creates nothing: what `status` and the dry runs use).
pub(crate) async fn read(client: &impl GenericClient) -> Result<Vec<LedgerRow>, Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('tenant_model_migrations') IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT version, name, checksum, applied_at, duration_ms \
             FROM tenant_model_migrations ORDER BY version",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| LedgerRow {
            version: row.get(0),
            name: row.get(1),
            checksum: row.get(2),
            applied_at: row.get(3),
            duration_ms: row.get(4),
        })
        .collect())
}

/// Records `migration` as applied.
pub(crate) async fn record(
    client: &impl GenericClient,
    migration: &Migration,
    duration: Duration,
) -> Result<(), Error> {
    let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    client
        .execute(
            "INSERT INTO tenant_model_migrations (version, name, checksum, duration_ms) \
             VALUES ($1, $2, $3, $4)",
            &[
                &migration.version(),
                &migration.name(),
                &migration.checksum(),
                &ms,
            ],
        )
        .await?;
    Ok(())
}

/// Forgets the migration with `version` (after its `down.sql` ran).
pub(crate) async fn remove(client: &impl GenericClient, version: i64) -> Result<(), Error> {
    client
        .execute(
            "DELETE FROM tenant_model_migrations WHERE version = $1",
            &[&version],
        )
        .await?;
    Ok(())
}
