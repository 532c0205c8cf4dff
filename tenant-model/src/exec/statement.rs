//! Where a statement's text comes from, and how long it stays prepared.
//!
//! Statements are prepared once per connection and cached. The library's
//! fixed statements (`&'static str`) stay cached for the connection's life;
//! built and raw SQL is cached only while the connection's cache holds
//! fewer than [`STATEMENT_CACHE_SIZE`] statements, and prepared just for
//! the one use after that, so no workload grows the cache without bound.

use deadpool_postgres::Object;
use tokio_postgres::Statement;

/// How many statements a connection's cache holds before built and raw SQL
/// stops being cached. The library's fixed statements (a few per model) are
/// always cached and count towards it; raw SQL, query-builder output,
/// updates and upserts are cached only below it, and otherwise prepared for
/// one use and released.
pub const STATEMENT_CACHE_SIZE: usize = 256;

/// Where a statement's text comes from, which decides how long it stays
/// prepared and whether the session needs a cleanup afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A fixed statement of the library (`&'static str`): cached for good.
    Fixed,
    /// SQL the library built (queries, updates, upserts, bulk chunks):
    /// cached while there is room.
    Built,
    /// SQL the caller wrote (raw statements, raw filter fragments): cached
    /// while there is room, and the session is cleaned up after the
    /// transaction.
    Raw,
}

/// A statement's text and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Sql<'a> {
    text: &'a str,
    origin: Origin,
}

impl<'a> Sql<'a> {
    /// The SQL text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Whether the text holds SQL the caller wrote.
    pub(crate) fn is_raw(&self) -> bool {
        self.origin == Origin::Raw
    }
}

impl Sql<'static> {
    /// A fixed statement of the library.
    pub(crate) fn fixed(text: &'static str) -> Sql<'static> {
        Sql {
            text,
            origin: Origin::Fixed,
        }
    }
}

impl<'a> Sql<'a> {
    /// SQL the library built; `raw` when it holds text the caller wrote.
    pub(crate) fn built(text: &'a str, raw: bool) -> Sql<'a> {
        let origin = if raw { Origin::Raw } else { Origin::Built };
        Sql { text, origin }
    }

    /// SQL the caller wrote.
    pub(crate) fn raw(text: &'a str) -> Sql<'a> {
        Sql {
            text,
            origin: Origin::Raw,
        }
    }
}

impl<'a> From<&'a str> for Sql<'a> {
    fn from(text: &'a str) -> Self {
        Sql::built(text, false)
    }
}

impl<'a> From<&'a String> for Sql<'a> {
    fn from(text: &'a String) -> Self {
        Sql::built(text, false)
    }
}

/// Prepares a statement: fixed ones are cached for good, others only while
/// the cache has room (see [`release`]). A failed preparation leaves no
/// entry behind.
pub(crate) async fn prepare(
    conn: &Object,
    sql: Sql<'_>,
) -> Result<Statement, tokio_postgres::Error> {
    let prepared = conn.prepare_cached(sql.text).await;
    if prepared.is_err() && sql.origin != Origin::Fixed {
        drop(conn.statement_cache.remove(sql.text, &[]));
    }
    prepared
}

/// After a built or raw statement ran: drops it from the cache when the
/// cache is over [`STATEMENT_CACHE_SIZE`] (the server deallocates it when
/// the last handle goes).
pub(crate) fn release(conn: &Object, sql: Sql<'_>) {
    if sql.origin != Origin::Fixed && conn.statement_cache.size() > STATEMENT_CACHE_SIZE {
        drop(conn.statement_cache.remove(sql.text, &[]));
    }
}
