//! The advisory lock that serializes runners: several instances of an
//! application starting at once each try to migrate, and the lock makes
//! them take turns, so each migration is applied exactly once.
//!
//! The lock is session-level on the runner's own connection, held for the
//! whole run: the next runner waits, then reads the ledger again and finds
//! nothing left to do. If the connection dies, the server releases the
//! lock.
//!
//! A waiting runner polls `pg_try_advisory_lock` rather than blocking in
//! `pg_advisory_lock`: a blocked `SELECT pg_advisory_lock(..)` is an open
//! transaction, and `CREATE INDEX CONCURRENTLY` in the lock holder's
//! migration waits for every open transaction to end, which would deadlock
//! the two. Between polls a waiter holds no transaction.

use std::time::Duration;

use tokio_postgres::Client;

use crate::Error;

/// The default advisory lock key: the bytes of `"tm_migra"`.
pub const DEFAULT_LOCK_KEY: i64 = i64::from_be_bytes(*b"tm_migra");

/// The first pause between two attempts; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(20);
/// The longest pause between two attempts.
const MAX_POLL: Duration = Duration::from_millis(500);

/// Waits for the lock (for as long as another runner holds it).
pub(crate) async fn acquire(client: &Client, key: i64) -> Result<(), Error> {
    let mut pause = FIRST_POLL;
    loop {
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?
            .get(0);
        if locked {
            return Ok(());
        }
        tracing::debug!(key, "another runner holds the migration lock; waiting");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Waits for the transaction-level lock, held until the transaction ends
/// (for runs through a transaction-mode pooler, where a session-level lock
/// would stay on whichever server connection took it).
pub(crate) async fn acquire_in_transaction(
    tx: &tokio_postgres::Transaction<'_>,
    key: i64,
) -> Result<(), Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
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
