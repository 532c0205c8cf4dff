//! How statements reach the server: prepared once per connection and cached
//! ([`StatementMode::Cached`]), or as unnamed statements that never outlive
//! their transaction ([`StatementMode::PoolerSafe`]), for transaction-mode
//! connection poolers such as PgBouncer.
//!
//! In pooler-safe mode a statement goes as one unnamed Parse/Bind/Execute
//! with its parameter types given (tokio-postgres' `query_typed`), so it
//! needs the types. They come from a cache shared by every connection of
//! the [`crate::Db`] (SQL text to the types the server reported): the first
//! use of a text prepares it inside the transaction (a named statement,
//! closed again before the transaction ends), later uses are one round
//! trip with no prepare step at all.
//!
//! tokio-postgres looks up types it does not know (enums, domains,
//! composites, arrays of them) with named statements it caches per
//! connection. So in pooler-safe mode every new connection is warmed once,
//! in a transaction of its own: every type of the database's own schemas is
//! looked up, and the statements those lookups prepared are deallocated
//! before that transaction ends. A type created after a connection was
//! warmed cannot be looked up on it: that gives [`crate::Error::PoolerStatement`],
//! and the connection is closed, so its replacement is warmed afresh.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use deadpool_postgres::Object;
use tokio_postgres::types::Type;

use crate::error::Error;

/// How the statements of a [`crate::Db`] are sent; chosen when the `Db` is
/// built ([`crate::Db::with_statement_mode`]).
///
/// | | `Cached` (default) | `PoolerSafe` |
/// |---|---|---|
/// | connects to | PostgreSQL, or a pooler in session mode, or PgBouncer 1.21+ with `max_prepared_statements` | a transaction-mode pooler without prepared-statement support (PgBouncer before 1.21, many managed poolers) |
/// | a statement | prepared once per connection, then Bind/Execute | one unnamed Parse/Bind/Execute with the parameter types given |
/// | cost | lowest: the server plans cached statements once per connection | the server parses and plans every statement (see `BENCHMARKS.md`) |
///
/// Through a transaction-mode pooler, the cached mode fails: a transaction
/// may run on another server connection than the one that prepared its
/// statement. The failure is [`crate::Error::PoolerStatement`].
///
/// ```no_run
/// use tenant_model::{Db, StatementMode};
/// # async fn f() -> Result<(), tenant_model::Error> {
/// // PgBouncer in transaction mode listens on 6432.
/// let db = Db::connect("postgres://app@localhost:6432/saas").await?
///     .with_statement_mode(StatementMode::PoolerSafe);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementMode {
    /// Statements are prepared once per connection and reused (see
    /// [`crate::STATEMENT_CACHE_SIZE`]). For direct connections.
    #[default]
    Cached,
    /// No named prepared statement outlives the transaction that made it:
    /// for transaction-mode poolers (PgBouncer `pool_mode = transaction`).
    PoolerSafe,
}

/// How many SQL texts the parameter-type cache of a [`crate::Db`] holds in
/// pooler-safe mode. A text that finds no room is prepared (and closed)
/// inside its transaction at each use: correct, one round trip slower.
pub const PARAM_TYPES_CACHE_SIZE: usize = 4096;

/// The way one `Db`'s statements are sent, shared by its pools and scopes.
#[derive(Clone, Default)]
pub(crate) enum Sending {
    /// [`StatementMode::Cached`].
    #[default]
    Cached,
    /// [`StatementMode::PoolerSafe`], with the `Db`-wide state.
    Unnamed(Arc<Unnamed>),
}

impl Sending {
    pub(crate) fn new(mode: StatementMode) -> Sending {
        match mode {
            StatementMode::Cached => Sending::Cached,
            StatementMode::PoolerSafe => Sending::Unnamed(Arc::new(Unnamed::default())),
        }
    }

    pub(crate) fn mode(&self) -> StatementMode {
        match self {
            Sending::Cached => StatementMode::Cached,
            Sending::Unnamed(_) => StatementMode::PoolerSafe,
        }
    }
}

/// What pooler-safe mode remembers across connections.
#[derive(Default)]
pub(crate) struct Unnamed {
    /// SQL text to its parameter types, as the server reported them.
    types: Mutex<HashMap<String, Vec<Type>>>,
    /// The connections (of every pool of the `Db`) already warmed.
    warmed: Mutex<HashSet<(usize, deadpool_postgres::ObjectId)>>,
}

impl Unnamed {
    /// The parameter types of `sql`, if known.
    pub(crate) fn types(&self, sql: &str) -> Option<Vec<Type>> {
        lock(&self.types).get(sql).cloned()
    }

    /// The parameter types of `sql`: from the cache, or by preparing it on
    /// `conn` (inside the caller's transaction) and closing it at once.
    pub(crate) async fn types_for(
        &self,
        conn: &Object,
        sql: &str,
    ) -> Result<Vec<Type>, tokio_postgres::Error> {
        if let Some(types) = self.types(sql) {
            return Ok(types);
        }
        let statement = conn.prepare(sql).await?;
        let types = statement.params().to_vec();
        // Dropping the last handle sends Close, ahead of anything the
        // transaction sends later (its COMMIT included).
        drop(statement);
        let mut cache = lock(&self.types);
        if cache.len() < PARAM_TYPES_CACHE_SIZE {
            cache.insert(sql.to_owned(), types.clone());
        }
        Ok(types)
    }

    /// Warms `conn` once (see the [module docs](self)).
    pub(crate) async fn warm(&self, conn: &Object) -> Result<(), Error> {
        let id = connection_key(conn);
        if lock(&self.warmed).contains(&id) {
            return Ok(());
        }
        warm_types(conn).await?;
        let mut warmed = lock(&self.warmed);
        // Ids of closed connections are never reused; forget them all now
        // and then (the live ones are simply warmed again).
        if warmed.len() >= 16 * 1024 {
            warmed.clear();
        }
        warmed.insert(id);
        Ok(())
    }

    /// Forgets a connection that is being closed.
    pub(crate) fn forget(&self, conn: &Object) {
        lock(&self.warmed).remove(&connection_key(conn));
    }
}

/// A connection's identity among the `Db`'s pools: object ids are per pool,
/// so the pool's address goes with it.
fn connection_key(conn: &Object) -> (usize, deadpool_postgres::ObjectId) {
    let pool = Object::pool(conn).map_or(0, |pool| pool.manager() as *const _ as usize);
    (pool, Object::id(conn))
}

/// Lists the types of the database's own schemas (and one domain of
/// `information_schema`, so that tokio-postgres' type-lookup statement is
/// always prepared here, and so never later, outside our control), as a
/// select list of `NULL::<type>` columns: at most 1,600 (a select list
/// holds 1,664), without the row types of tables and arrays of them.
const TYPE_LIST: &str =
    "SELECT coalesce(string_agg(format('NULL::%s', oid::regtype), ', ' ORDER BY oid), '') FROM ( \
       SELECT t.oid FROM pg_catalog.pg_type t \
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
       LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid \
       LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem \
       LEFT JOIN pg_catalog.pg_class ec ON ec.oid = e.typrelid \
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' \
         AND (c.oid IS NULL OR c.relkind = 'c') AND (ec.oid IS NULL OR ec.relkind = 'c') \
         AND t.typtype <> 'p' AND t.typisdefined \
       ORDER BY t.oid LIMIT 1600) types";

/// The names of the protocol-level statements prepared in this transaction.
const PREPARED_HERE: &str = "SELECT coalesce(string_agg(format('DEALLOCATE %I', name), '; '), '') \
     FROM pg_catalog.pg_prepared_statements WHERE NOT from_sql AND prepare_time >= now()";

/// One warm-up transaction: look every type up (tokio-postgres caches them
/// on the connection), then deallocate what the lookups prepared.
async fn warm_types(conn: &Object) -> Result<(), Error> {
    conn.batch_execute("BEGIN").await?;
    let warmed = async {
        let list: String = conn.query_typed_one(TYPE_LIST, &[]).await?.get(0);
        let columns = match list.is_empty() {
            true => "NULL::information_schema.sql_identifier".to_owned(),
            false => format!("NULL::information_schema.sql_identifier, {list}"),
        };
        conn.query_typed(&format!("SELECT {columns} WHERE false"), &[])
            .await?;
        let deallocate: String = conn.query_typed_one(PREPARED_HERE, &[]).await?.get(0);
        if !deallocate.is_empty() {
            conn.batch_execute(&deallocate).await?;
        }
        Ok::<(), tokio_postgres::Error>(())
    }
    .await;
    let ended = conn
        .batch_execute(if warmed.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await;
    warmed?;
    ended?;
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
