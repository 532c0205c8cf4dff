//! `Tx`: a transaction whose first statement carries the context.
//!
//! Nothing is sent when a `Tx` is created. The first statement goes out
//! pipelined behind `BEGIN` and the `set_config(..., true)` call that sets
//! the tenant (or admin) context for this transaction only (on Citus, the
//! `SET LOCAL`s that reach the workers, as their own message; see
//! [`crate::ServerMode`]), so the context costs no extra round trip. Dropping an open `Tx` rolls it back before
//! its connection returns to the pool; if that is impossible (no runtime)
//! or takes longer than the pool's recycle timeout (5 s for a pool without
//! one; a statement may still be running on the server), the connection is
//! detached from the pool and closed instead, so a pooled connection never
//! carries a transaction or a context to its next user, and its slot comes
//! back in bounded time.
//!
//! After raw SQL the transaction's end also resets the session (see
//! [`crate::SESSION_CLEANUP`]); built and raw statements stay prepared only
//! while the connection's cache has room (see
//! [`crate::STATEMENT_CACHE_SIZE`]).
//!
//! How statements are sent follows the `Db`'s [`crate::StatementMode`]:
//! prepared and cached per connection, or (pooler-safe) as unnamed
//! statements with their parameter types given, with `BEGIN` and `COMMIT`
//! as simple queries, so that no named statement outlives the transaction.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Object;
use futures_util::FutureExt;
use tokio_postgres::types::Type;
use tokio_postgres::{Row, Statement};
use tracing::Instrument;

use crate::error::Error;
use crate::exec::server_mode::ServerMode;
use crate::exec::session::cleanup;
use crate::exec::statement::{prepare, release, Sql};
use crate::exec::statement_mode::{Sending, Unnamed};
use crate::model::tenant_id::TenantId;
use crate::model::Param;
use crate::schema::SetNullReference;

/// How long a dropped transaction may take to roll back when its pool has
/// no recycle timeout; see [`crate::PoolTimeouts::recycle`].
const DEFAULT_DROP_ROLLBACK: Duration = Duration::from_secs(5);

/// Which context a transaction carries.
#[derive(Debug, Clone)]
pub(crate) enum Context {
    /// Tenant isolation: `app.tenant_id`.
    Tenant(TenantId),
    /// Cross-tenant admin work: `app.is_superuser` on, with the reason.
    Admin(Arc<String>),
}

/// The statements that set the context. On plain PostgreSQL: one
/// `set_config(..., true)` call whose parameters are always bound, never
/// formatted into SQL (the tenant goes as a `uuid` parameter, cast to text
/// by the server). On Citus, `SET LOCAL`s first (see
/// [`crate::ServerMode`]), sent as their own simple-query message because
/// only `SET LOCAL` reaches the workers and Citus refuses it in the same
/// query string as a statement on a distributed table; the only value in
/// them is formatted from a `Uuid`. The admin reason is text, so it is
/// never formatted: it stays a bound `set_config` on the coordinator.
pub(crate) struct ContextStatement<'a> {
    /// Citus only: the `SET LOCAL`s, as one simple-query message.
    local: Option<String>,
    /// The bound statement, if any.
    sql: Option<&'static str>,
    params: Vec<Param<'a>>,
}

/// The Citus setting that makes `SET LOCAL`s travel to the workers.
const CITUS_PROPAGATE: &str = "SET LOCAL citus.propagate_set_commands = 'local'";

impl<'a> ContextStatement<'a> {
    pub(crate) fn new(context: &'a Context, mode: ServerMode) -> ContextStatement<'a> {
        const TENANT: &str = "SELECT set_config('app.tenant_id', $1::uuid::text, true)";
        const ADMIN: &str =
            "SELECT set_config('app.is_superuser', 'on', true), set_config('app.admin_reason', $1, true)";
        const CITUS_ADMIN_REASON: &str = "SELECT set_config('app.admin_reason', $1, true)";
        match (context, mode.is_citus()) {
            (Context::Tenant(id), false) => ContextStatement {
                local: None,
                sql: Some(TENANT),
                params: vec![id as Param<'a>],
            },
            (Context::Admin(reason), false) => ContextStatement {
                local: None,
                sql: Some(ADMIN),
                params: vec![&**reason as Param<'a>],
            },
            (Context::Tenant(id), true) => ContextStatement {
                local: Some(citus_tenant_sql(id.as_uuid())),
                sql: None,
                params: Vec::new(),
            },
            (Context::Admin(reason), true) => ContextStatement {
                local: Some(format!(
                    "{CITUS_PROPAGATE}; SET LOCAL app.is_superuser = 'on'"
                )),
                sql: Some(CITUS_ADMIN_REASON),
                params: vec![&**reason as Param<'a>],
            },
        }
    }

    /// Sends the `SET LOCAL`s, when there are any.
    async fn run_local(&self, conn: &Object, opening: bool) -> Result<(), tokio_postgres::Error> {
        match (&self.local, opening) {
            (Some(local), true) => conn.batch_execute(local).await,
            _ => Ok(()),
        }
    }
}

/// The Citus tenant context: the only value is a `Uuid`, formatted as
/// hyphenated hex, so nothing but `[0-9a-f-]` reaches the SQL.
fn citus_tenant_sql(tenant: uuid::Uuid) -> String {
    format!(
        "{CITUS_PROPAGATE}; SET LOCAL app.tenant_id = '{}'",
        tenant.hyphenated()
    )
}

/// A transaction bound to a tenant (or, for the admin scope, to an audited
/// reason). Get one from [`crate::TenantScope::begin`].
///
/// Commit with [`Tx::commit`]; [`Tx::rollback`] or dropping it rolls back.
/// CRUD, queries and raw SQL run on it through the [`crate::Executor`]
/// methods and [`crate::Query`].
///
/// After raw SQL ([`Tx::raw_query`], [`Tx::raw_execute`], raw filter
/// fragments) the transaction's end also resets the session (see
/// [`crate::SESSION_CLEANUP`]), in the same round trip: nothing raw SQL leaves on
/// the session reaches the connection's next user, even past a raw
/// `COMMIT`.
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), tenant_model::Error> {
/// let mut tx = db.tenant(acme).begin().await?;   // nothing sent yet
/// let n: i64 = tx.raw_query("SELECT count(*) FROM users", &[]).await?[0].get(0);
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct Tx {
    conn: Option<Object>,
    started: bool,
    /// Whether non-library SQL ran: the session then needs a cleanup.
    raw: bool,
    /// Whether the last statement failed, which aborts the transaction on
    /// the server until it rolls back (or back to a savepoint: then the
    /// next statement succeeds and clears this).
    aborted: bool,
    context: Context,
    /// Plain PostgreSQL or Citus (resolved, never `Detect`).
    mode: ServerMode,
    /// The `SET NULL` references carried out before a hard delete on Citus.
    set_nulls: Arc<[SetNullReference]>,
    cursors: u32,
    /// How statements are sent ([`crate::StatementMode`]).
    sending: Sending,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("started", &self.started)
            .field("raw", &self.raw)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// What a statement returns: its rows, or the number of rows it affected.
trait Outcome {
    type Output;

    fn run<'a>(
        conn: &'a Object,
        statement: &'a Statement,
        params: &'a [Param<'a>],
    ) -> impl std::future::Future<Output = Result<Self::Output, tokio_postgres::Error>> + Send + 'a;

    /// Runs `sql` as an unnamed statement with the parameter types given.
    fn run_typed<'a>(
        conn: &'a Object,
        sql: &'a str,
        params: &'a [(Param<'a>, Type)],
    ) -> impl std::future::Future<Output = Result<Self::Output, tokio_postgres::Error>> + Send + 'a;
}

/// `query`: the rows.
struct Rows;
/// `execute`: the count from the command tag.
struct Count;

impl Outcome for Rows {
    type Output = Vec<Row>;

    fn run<'a>(
        conn: &'a Object,
        statement: &'a Statement,
        params: &'a [Param<'a>],
    ) -> impl std::future::Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a
    {
        conn.query(statement, params)
    }

    fn run_typed<'a>(
        conn: &'a Object,
        sql: &'a str,
        params: &'a [(Param<'a>, Type)],
    ) -> impl std::future::Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a
    {
        conn.query_typed(sql, params)
    }
}

impl Outcome for Count {
    type Output = u64;

    fn run<'a>(
        conn: &'a Object,
        statement: &'a Statement,
        params: &'a [Param<'a>],
    ) -> impl std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a {
        conn.execute(statement, params)
    }

    fn run_typed<'a>(
        conn: &'a Object,
        sql: &'a str,
        params: &'a [(Param<'a>, Type)],
    ) -> impl std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a {
        conn.execute_typed(sql, params)
    }
}

/// Executes a framing statement when there is one.
async fn run_optional(
    conn: &Object,
    statement: Option<&Statement>,
    params: &[Param<'_>],
) -> Result<(), tokio_postgres::Error> {
    match statement {
        Some(statement) => conn.execute(statement, params).await.map(drop),
        None => Ok(()),
    }
}

/// Runs a framing statement (`BEGIN`, `COMMIT`) as a simple query when
/// there is one: no statement is prepared.
async fn run_simple(conn: &Object, sql: Option<&'static str>) -> Result<(), tokio_postgres::Error> {
    match sql {
        Some(sql) => conn.batch_execute(sql).await,
        None => Ok(()),
    }
}

/// Runs a statement whose parameter types are known as an unnamed one, when
/// there is one.
async fn run_unnamed(
    conn: &Object,
    sql: Option<&str>,
    params: &[Param<'_>],
    types: Option<&[Type]>,
) -> Result<(), tokio_postgres::Error> {
    match (sql, types) {
        (Some(sql), Some(types)) => {
            let typed = typed_params(params, types);
            conn.execute_typed(sql, &typed).await.map(drop)
        }
        _ => Ok(()),
    }
}

/// Pairs parameters with their types (a missing type is left to the server).
fn typed_params<'a>(params: &[Param<'a>], types: &[Type]) -> Vec<(Param<'a>, Type)> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, types.get(i).cloned().unwrap_or(Type::UNKNOWN)))
        .collect()
}

/// The parameter types of an optional statement: none to look up for a
/// statement without parameters.
async fn types_of(
    unnamed: &Unnamed,
    conn: &Object,
    sql: Option<&str>,
    params: &[Param<'_>],
) -> Result<Option<Vec<Type>>, tokio_postgres::Error> {
    match sql {
        Some(_) if params.is_empty() => Ok(Some(Vec::new())),
        Some(sql) => unnamed.types_for(conn, sql).await.map(Some),
        None => Ok(None),
    }
}

/// The parameter types of a statement, when known without a round trip: a
/// statement without parameters needs none (nor a cache entry).
fn known_types(unnamed: &Unnamed, sql: &str, params: &[Param<'_>]) -> Option<Vec<Type>> {
    match params.is_empty() {
        true => Some(Vec::new()),
        false => unnamed.types(sql),
    }
}

/// How long a dropped transaction of `conn`'s pool may take to roll back.
fn drop_rollback_bound(conn: &Object) -> Duration {
    Object::pool(conn)
        .and_then(|pool| pool.timeouts().recycle)
        .unwrap_or(DEFAULT_DROP_ROLLBACK)
}

/// How a statement ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The transaction stays open.
    Open,
    /// `COMMIT` is pipelined after the statement (one-statement helpers).
    Commit,
}

impl Tx {
    pub(crate) fn new(conn: Object, context: Context, mode: ServerMode, sending: Sending) -> Tx {
        Tx {
            conn: Some(conn),
            started: false,
            raw: false,
            aborted: false,
            context,
            mode,
            set_nulls: Arc::from(Vec::new()),
            cursors: 0,
            sending,
        }
    }

    /// This transaction, carrying out these `SET NULL` references on Citus.
    pub(crate) fn with_set_nulls(mut self, set_nulls: Arc<[SetNullReference]>) -> Tx {
        self.set_nulls = set_nulls;
        self
    }

    /// Whether this transaction runs on Citus.
    pub(crate) fn on_citus(&self) -> bool {
        self.mode.is_citus()
    }

    /// The references whose `ON DELETE SET NULL` the library carries out
    /// before a hard delete of rows of `target`: on Citus only (plain
    /// PostgreSQL keeps the foreign key's action).
    pub(crate) fn set_nulls_into(&self, target: &str) -> Vec<SetNullReference> {
        match self.on_citus() {
            true => self
                .set_nulls
                .iter()
                .filter(|r| r.target == target)
                .copied()
                .collect(),
            false => Vec::new(),
        }
    }

    /// A number for the next cursor of this transaction.
    pub(crate) fn next_cursor_id(&mut self) -> u32 {
        self.cursors += 1;
        self.cursors
    }

    /// The tenant this transaction acts for (`None` in the admin scope).
    pub fn tenant_id(&self) -> Option<TenantId> {
        match &self.context {
            Context::Tenant(id) => Some(*id),
            Context::Admin(_) => None,
        }
    }

    /// Runs one statement and returns its rows; on the first statement,
    /// `BEGIN` and the context go out in the same round trip.
    pub(crate) async fn rows(
        &mut self,
        sql: Sql<'_>,
        params: &[Param<'_>],
        finish: Finish,
    ) -> Result<Vec<Row>, Error> {
        self.send::<Rows>(sql, params, finish).await
    }

    /// Runs one statement and returns the number of rows it affected.
    pub(crate) async fn count(
        &mut self,
        sql: Sql<'_>,
        params: &[Param<'_>],
        finish: Finish,
    ) -> Result<u64, Error> {
        self.send::<Count>(sql, params, finish).await
    }

    /// Sends one statement, framed as needed: `BEGIN` and the context
    /// before it when the transaction has not started, `COMMIT` after it
    /// for one-statement helpers (and the session cleanup after that, when
    /// the transaction ran raw SQL). All of it goes out at once
    /// (tokio-postgres pipelines requests polled together; `biased` keeps
    /// them in order) and the statements are prepared once per connection
    /// (the first use prepares them all in one more round trip), so this is
    /// one round trip.
    async fn send<O: Outcome>(
        &mut self,
        sql: Sql<'_>,
        params: &[Param<'_>],
        finish: Finish,
    ) -> Result<O::Output, Error> {
        let sent = match self.sending.clone() {
            Sending::Cached => self.send_cached::<O>(sql, params, finish).await,
            Sending::Unnamed(unnamed) => {
                self.send_unnamed::<O>(&unnamed, sql, params, finish).await
            }
        };
        if let Err(Error::PoolerStatement { .. }) = &sent {
            self.close_connection();
        }
        sent
    }

    /// Closes the connection instead of returning it to the pool (the
    /// server ends its transaction).
    fn close_connection(&mut self) {
        if let Some(conn) = self.conn.take() {
            if let Sending::Unnamed(unnamed) = &self.sending {
                unnamed.forget(&conn);
            }
            drop(Object::take(conn));
        }
    }

    /// [`Tx::send`] in the cached mode: every statement (framing included)
    /// is prepared once per connection, and the first use prepares them all
    /// in one more round trip.
    async fn send_cached<O: Outcome>(
        &mut self,
        sql: Sql<'_>,
        params: &[Param<'_>],
        finish: Finish,
    ) -> Result<O::Output, Error> {
        let opening = !self.started;
        let context = ContextStatement::new(&self.context, self.mode);
        let conn = self.conn.as_ref().ok_or(Error::TransactionClosed)?;
        let prepare_framing = |sql: Option<&'static str>| async move {
            match sql {
                Some(sql) => conn.prepare_cached(sql).await.map(Some),
                None => Ok(None),
            }
        };
        let (statement, begin, set_context, commit) = tokio::try_join!(
            biased;
            prepare(conn, sql),
            prepare_framing(opening.then_some("BEGIN")),
            prepare_framing(context.sql.filter(|_| opening)),
            prepare_framing((finish == Finish::Commit).then_some("COMMIT")),
        )?;
        // From here on the server may hold an open transaction (and raw
        // SQL may leave session state): if this future is dropped, `Drop`
        // rolls back and cleans up.
        self.started = true;
        self.raw |= sql.is_raw();
        let clean = commit.is_some() && self.raw;
        let (begun, local_set, context_set, output, committed, cleaned) = tokio::join!(
            biased;
            run_optional(conn, begin.as_ref(), &[]),
            context.run_local(conn, opening),
            run_optional(conn, set_context.as_ref(), &context.params),
            O::run(conn, &statement, params),
            run_optional(conn, commit.as_ref(), &[]),
            cleanup(conn, clean),
        );
        drop(statement);
        release(conn, sql);
        if commit.is_some() && committed.is_ok() {
            self.started = false;
        }
        if clean {
            self.after_cleanup(cleaned);
        }
        self.settle(begun.and(local_set).and(context_set), output, committed)
    }

    /// [`Tx::send`] in the pooler-safe mode: `BEGIN` and `COMMIT` go as
    /// simple queries, the context and the statement as unnamed statements
    /// with their parameter types given. When the `Db` knows every type
    /// this is one round trip, as in the cached mode; a text used for the
    /// first time is prepared inside the transaction first (and closed at
    /// once), one more round trip.
    async fn send_unnamed<O: Outcome>(
        &mut self,
        unnamed: &Unnamed,
        sql: Sql<'_>,
        params: &[Param<'_>],
        finish: Finish,
    ) -> Result<O::Output, Error> {
        let opening = !self.started;
        let context = ContextStatement::new(&self.context, self.mode);
        let conn = self.conn.as_ref().ok_or(Error::TransactionClosed)?;
        let context_sql = context.sql.filter(|_| opening);
        let commit = (finish == Finish::Commit).then_some("COMMIT");
        // From here on the server may hold an open transaction.
        self.started = true;
        self.raw |= sql.is_raw();
        let clean = commit.is_some() && self.raw;
        let context_known = context_sql.map(|c| known_types(unnamed, c, &context.params));
        let (begun_already, context_types, statement_types) =
            match (context_known, known_types(unnamed, sql.text(), params)) {
                (None, Some(types)) => (false, None, types),
                (Some(Some(context_types)), Some(types)) => (false, Some(context_types), types),
                _ => {
                    // First use of a text: BEGIN, then prepare (and close)
                    // what is not known yet, all inside the transaction.
                    let (begun, context_types, statement_types) = tokio::join!(
                        biased;
                        run_simple(conn, opening.then_some("BEGIN")),
                        types_of(unnamed, conn, context_sql, &context.params),
                        types_of(unnamed, conn, Some(sql.text()), params),
                    );
                    let known = begun.and(context_types).and_then(|context_types| {
                        statement_types.map(|types| (context_types, types.unwrap_or_default()))
                    });
                    match known {
                        Ok((context_types, types)) => (true, context_types, types),
                        Err(err) => {
                            self.aborted = true;
                            return Err(err.into());
                        }
                    }
                }
            };
        let begin = (opening && !begun_already).then_some("BEGIN");
        let typed = typed_params(params, &statement_types);
        // The session cleanup runs inside the transaction, before COMMIT:
        // after it, a transaction-mode pooler may hand the next statement
        // to another server connection.
        let (begun, local_set, context_set, output, cleaned, committed) = tokio::join!(
            biased;
            run_simple(conn, begin),
            context.run_local(conn, opening),
            run_unnamed(conn, context_sql, &context.params, context_types.as_deref()),
            O::run_typed(conn, sql.text(), &typed),
            cleanup(conn, clean),
            run_simple(conn, commit),
        );
        if commit.is_some() && committed.is_ok() {
            self.started = false;
        }
        let opened = begun.and(local_set).and(context_set);
        self.aborted = opened.is_err() || output.is_err();
        if clean {
            self.after_inner_cleanup(cleaned);
        }
        self.settle(opened, output, committed)
    }

    /// The outcome of one sent statement: the first error among the
    /// opening (`BEGIN` and the context), the statement and `COMMIT`, in
    /// that order, else the statement's output. A failed opening or
    /// statement leaves the transaction aborted on the server.
    fn settle<T>(
        &mut self,
        opened: Result<(), tokio_postgres::Error>,
        output: Result<T, tokio_postgres::Error>,
        committed: Result<(), tokio_postgres::Error>,
    ) -> Result<T, Error> {
        self.aborted = opened.is_err() || output.is_err();
        opened?;
        let output = output?;
        committed?;
        Ok(output)
    }

    /// After a session cleanup that ran inside the transaction (pooler-safe
    /// mode): in a transaction an error aborted, it could not run, and the
    /// rollback took back what the raw SQL did, except session advisory
    /// locks and SQL-level `PREPARE`s (the pooler's `server_reset_query`
    /// covers those; see the guide's `pgbouncer` chapter).
    fn after_inner_cleanup(&mut self, cleaned: Result<(), tokio_postgres::Error>) {
        match self.aborted {
            true => self.raw = false,
            false => self.after_cleanup(cleaned),
        }
    }

    /// After the session cleanup: the session is clean again, or, if the
    /// cleanup failed, the connection is closed so nobody inherits it.
    fn after_cleanup(&mut self, cleaned: Result<(), tokio_postgres::Error>) {
        match cleaned {
            Ok(()) => self.raw = false,
            Err(err) => {
                tracing::warn!(error = %err, "session cleanup failed; closing the connection");
                if let Some(conn) = self.conn.take() {
                    drop(Object::take(conn));
                }
            }
        }
    }

    /// Runs raw SQL with bound parameters inside this transaction (the
    /// context applies: RLS still filters by tenant). Whatever it leaves on
    /// the session is reset when the transaction ends.
    pub async fn raw_query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        let span = tracing::debug_span!("tenant_model.raw", tenant = ?self.tenant_id(), rows = tracing::field::Empty);
        let rows = self
            .rows(Sql::raw(sql), params, Finish::Open)
            .instrument(span.clone())
            .await?;
        span.record("rows", rows.len());
        Ok(rows)
    }

    /// Runs a raw SQL statement with bound parameters inside this
    /// transaction; returns the number of rows affected. Whatever it leaves
    /// on the session is reset when the transaction ends.
    pub async fn raw_execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let span = tracing::debug_span!("tenant_model.raw", tenant = ?self.tenant_id(), rows = tracing::field::Empty);
        let n = self
            .count(Sql::raw(sql), params, Finish::Open)
            .instrument(span.clone())
            .await?;
        span.record("rows", n);
        Ok(n)
    }

    /// Commits. A transaction that sent nothing commits without a round trip.
    ///
    /// After a statement of this transaction failed (and no savepoint
    /// recovered it), nothing can be committed: the transaction is rolled
    /// back and this returns [`Error::TransactionAborted`], never `Ok` for
    /// work that was not stored.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.finish("COMMIT").await
    }

    /// Rolls back. A transaction that sent nothing needs no round trip.
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.finish("ROLLBACK").await
    }

    /// Ends the transaction; after raw SQL, the session cleanup rides in
    /// the same round trip.
    async fn finish(&mut self, sql: &'static str) -> Result<(), Error> {
        if !self.started {
            return Ok(());
        }
        let conn = self.conn.as_ref().ok_or(Error::TransactionClosed)?;
        // PostgreSQL answers COMMIT in an aborted transaction with a
        // ROLLBACK and no error: rather than report a commit that did not
        // happen, ask the server (it refuses with 25P02), roll back, and
        // return its refusal.
        let refused = match sql == "COMMIT" && self.aborted {
            true => conn.batch_execute("SELECT 1").await.err(),
            false => None,
        };
        let sql = if refused.is_some() { "ROLLBACK" } else { sql };
        let statement = match self.sending {
            Sending::Cached => Some(conn.prepare_cached(sql).await?),
            Sending::Unnamed(_) => None,
        };
        let clean = self.raw;
        let (ended, cleaned) = match &statement {
            Some(statement) => {
                tokio::join!(
                    biased;
                    conn.execute(statement, &[]).map(|ended| ended.map(drop)),
                    cleanup(conn, clean),
                )
            }
            None => {
                // Pooler-safe: the cleanup goes first, inside the
                // transaction, when the transaction can still run it.
                let (cleaned, ended) = tokio::join!(
                    biased;
                    cleanup(conn, clean && !self.aborted),
                    conn.batch_execute(sql),
                );
                (ended, cleaned)
            }
        };
        if ended.is_ok() {
            self.started = false;
        }
        if clean {
            match statement {
                Some(_) => self.after_cleanup(cleaned),
                None => self.after_inner_cleanup(cleaned),
            }
        }
        ended?;
        match refused {
            Some(refusal) => Err(refusal.into()),
            None => Ok(()),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !self.started {
            return; // nothing open on the server: back to the pool as is
        }
        tracing::debug!("rolling back a dropped transaction");
        let clean = self.raw;
        let pooler = matches!(self.sending, Sending::Unnamed(_));
        let bound = drop_rollback_bound(&conn);
        let mut guard = Detach(Some(conn));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let Some(conn) = guard.0.as_ref() else { return };
                let rollback = async {
                    if pooler {
                        // Inside the transaction (see `Tx::finish`); in an
                        // aborted one it fails, and the rollback suffices.
                        let (_, rolled_back) = tokio::join!(
                            biased;
                            cleanup(conn, clean),
                            conn.batch_execute("ROLLBACK"),
                        );
                        return rolled_back;
                    }
                    let (rolled_back, cleaned) = tokio::join!(
                        biased;
                        conn.batch_execute("ROLLBACK"),
                        cleanup(conn, clean),
                    );
                    rolled_back.and(cleaned)
                };
                // A rollback that does not finish in time (a statement still
                // running on the server) gives the slot back by closing the
                // connection.
                if let Ok(Ok(())) = tokio::time::timeout(bound, rollback).await {
                    // Rolled back: the connection may serve again.
                    drop(guard.0.take());
                }
            });
        }
        // Without a runtime, or if the task fails or times out, `Detach`
        // closes the connection instead of returning it to the pool.
    }
}

/// Holds a connection that must not return to the pool unless taken out.
struct Detach(Option<Object>);

impl Drop for Detach {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_citus_context_holds_only_a_formatted_uuid() {
        for _ in 0..200 {
            let id = uuid::Uuid::new_v4();
            let sql = citus_tenant_sql(id);
            let prefix =
                "SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL app.tenant_id = '";
            let value = sql
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix('\''))
                .expect("the fixed shape");
            assert_eq!(value.len(), 36, "{sql}");
            assert!(
                value.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
                "{sql}"
            );
            assert_eq!(uuid::Uuid::parse_str(value).ok(), Some(id));
        }
    }

    #[test]
    fn citus_contexts_put_no_text_into_sql() {
        let reason = Context::Admin(Arc::new("it's'; DROP TABLE users; --".to_owned()));
        let statement = ContextStatement::new(&reason, ServerMode::Citus);
        let local = statement.local.as_deref().expect("SET LOCALs on Citus");
        assert!(!local.contains("DROP"), "{local}");
        assert_eq!(
            local,
            "SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL app.is_superuser = 'on'"
        );
        assert_eq!(statement.params.len(), 1, "the reason is a bound parameter");
        let plain = ContextStatement::new(&reason, ServerMode::Plain);
        assert!(plain.local.is_none());
        let tenant = Context::Tenant(TenantId::from(uuid::Uuid::nil()));
        let statement = ContextStatement::new(&tenant, ServerMode::Citus);
        assert!(statement.sql.is_none() && statement.params.is_empty());
    }
}
