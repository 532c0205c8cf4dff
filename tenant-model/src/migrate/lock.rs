//! The advisory lock that serializes runners: several instances of an
//! application starting at once each try to migrate, and the lock makes
//! them take turns, so each migration is applied exactly once.
//!
//! The lock is session-level (`pg_advisory_lock`) on the runner's own
//! connection, held for the whole run: the next runner waits, then reads
//! the ledger again and finds nothing left to do. If the connection dies,
//! the server releases the lock.

use tokio_postgres::Client;

use crate::Error;

/// The default advisory lock key: the bytes of `"tm_migra"`.
pub const DEFAULT_LOCK_KEY: i64 = i64::from_be_bytes(*b"tm_migra");

/// Waits for the lock.
pub(crate) async fn acquire(client: &Client, key: i64) -> Result<(), Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .await?;
    Ok(())
}

/// Releases the lock. A connection that is gone has released it already,
/// so a failure here is not reported over the run's own result.
pub(crate) async fn release(client: &Client, key: i64) {
    if let Err(e) = client
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .await
    {
        tracing::warn!(error = %e, "could not release the migration lock");
    }
}
