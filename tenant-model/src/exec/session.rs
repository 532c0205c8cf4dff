//! Resetting a session after non-library SQL.
//!
//! Raw SQL (and raw filter fragments) may leave state on the session that
//! outlives the transaction: temp tables, `WITH HOLD` cursors, session
//! `SET`s and roles, `LISTEN`s, advisory locks, SQL-level `PREPARE`s. A
//! transaction that ran any non-library SQL therefore ends with
//! [`SESSION_CLEANUP`] pipelined behind its `COMMIT` or `ROLLBACK` (no extra
//! round trip); if the cleanup fails, the connection is closed instead of
//! returned to the pool. Transactions that ran only library SQL send
//! nothing extra.

use deadpool_postgres::Object;

/// What runs after a transaction that ran non-library SQL, so its session
/// state cannot reach the connection's next user: held cursors, listens,
/// session advisory locks, temp tables (and temp sequences' `currval`),
/// the role and session authorization, every session setting, and the
/// statements prepared with SQL `PREPARE` (the driver's protocol-level
/// statements are kept, so the statement cache stays valid; that is why
/// this is not `DISCARD ALL`). The last step is a `DO` block, so the
/// application role needs `USAGE` on `plpgsql` (PostgreSQL grants it to
/// everyone by default); without it the cleanup fails and the connection is
/// closed instead.
pub const SESSION_CLEANUP: &str = "CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); \
     DISCARD TEMP; DISCARD SEQUENCES; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; \
     DO $$DECLARE s text; BEGIN FOR s IN SELECT name FROM pg_prepared_statements \
     WHERE from_sql LOOP EXECUTE format('DEALLOCATE %I', s); END LOOP; END$$";

/// Runs [`SESSION_CLEANUP`] when `needed`.
pub(crate) async fn cleanup(conn: &Object, needed: bool) -> Result<(), tokio_postgres::Error> {
    match needed {
        true => conn.batch_execute(SESSION_CLEANUP).await,
        false => Ok(()),
    }
}
