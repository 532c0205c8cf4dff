//! Scopes: who statements act for. A [`TenantScope`] acts for one tenant;
//! an [`AdminScope`] does audited cross-tenant work as the admin role.

use std::sync::Arc;

use crate::error::Error;
use crate::exec::checked_pool::CheckedPool;
use crate::exec::executor::Executor;
use crate::exec::tx::{Context, Tx};
use crate::model::record::Record;
use crate::model::tenant::Tenant;
use crate::model::tenant_id::TenantId;

/// Statements acting for one tenant. Get one with [`crate::Db::tenant`].
///
/// Its [`crate::Executor`] methods (`insert`, `find`, `update`, ...) each
/// run as a whole transaction in one round trip: `BEGIN`, the tenant
/// context, the statement and `COMMIT` are pipelined. For several
/// statements in one transaction, use [`TenantScope::begin`] or
/// [`TenantScope::run`].
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # #[derive(TenantModel, Debug)]
/// # struct Note { #[tenant_model(primary_key)] id: Uuid, title: String }
/// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), tenant_model::Error> {
/// use tenant_model::Executor;
///
/// let note = db.tenant(acme).insert(Note { id: Uuid::now_v7(), title: "hi".into() }).await?;
/// let again = db.tenant(acme).find::<Note>(note.id).await?;
/// assert_eq!(again.tenant_id(), Some(acme));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TenantScope {
    pool: CheckedPool,
    tenant: TenantId,
}

impl std::fmt::Debug for TenantScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantScope")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TenantScope {
    pub(crate) fn new(pool: CheckedPool, tenant: TenantId) -> TenantScope {
        TenantScope { pool, tenant }
    }

    /// The tenant this scope acts for.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// Whether this scope's pool is on Citus (checks the pool when no
    /// checkout has yet).
    pub(crate) async fn on_citus(&self) -> Result<bool, Error> {
        Ok(self.pool.mode().await?.is_citus())
    }

    /// Takes a connection and returns a transaction for this tenant.
    /// Nothing is sent until its first statement, which carries `BEGIN`
    /// and the tenant context with it.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let (conn, mode) = self.pool.get().await?;
        Ok(Tx::new(
            conn,
            Context::Tenant(self.tenant),
            mode,
            self.pool.sending().clone(),
        )
        .with_set_nulls(self.pool.set_nulls().clone()))
    }

    /// Runs `work` in one transaction: commits when it returns `Ok`, rolls
    /// back when it returns `Err` or panics.
    ///
    /// The error type is [`Error`], so a closure with several `?`s needs no
    /// annotation; for an error type of your own, use
    /// [`TenantScope::try_run`].
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), tenant_model::Error> {
    /// let count = db
    ///     .tenant(acme)
    ///     .run(async |tx| {
    ///         tx.raw_execute("SELECT 1", &[]).await?;
    ///         let rows = tx.raw_query("SELECT count(*) FROM users", &[]).await?;
    ///         Ok(rows[0].get::<_, i64>(0))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, Error>,
    {
        run_in(self.begin().await?, work).await
    }

    /// Like [`TenantScope::run`], with an error type of your own that
    /// library errors convert into.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// #[derive(Debug)]
    /// enum AppError { Db(tenant_model::Error), Empty }
    /// impl From<tenant_model::Error> for AppError {
    ///     fn from(e: tenant_model::Error) -> Self { AppError::Db(e) }
    /// }
    /// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), AppError> {
    /// let n: i64 = db
    ///     .tenant(acme)
    ///     .try_run(async |tx| {
    ///         let rows = tx.raw_query("SELECT count(*) FROM users", &[]).await?;
    ///         let n: i64 = rows[0].get(0);
    ///         if n == 0 { return Err(AppError::Empty) }
    ///         Ok(n)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn try_run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, E>,
        E: From<Error>,
    {
        run_in(self.begin().await?, work).await
    }
}

/// Commits on `Ok`, rolls back on `Err`; on a panic the `Tx` is dropped
/// during unwinding, which rolls it back.
async fn run_in<T, E, F>(mut tx: Tx, work: F) -> Result<T, E>
where
    F: AsyncFnOnce(&mut Tx) -> Result<T, E>,
    E: From<Error>,
{
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            // The work's error matters more than a failed rollback, and
            // dropping the Tx still rolls back (or detaches) the connection.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

/// Audited cross-tenant work, as the admin role. Get one with
/// [`crate::Db::admin`].
///
/// Its transactions run on the admin pool (a login role that is a member
/// of the schema's admin role, the only role the cross-tenant policies
/// apply to) with `app.is_superuser` on and `app.admin_reason` set, for
/// that transaction only. Each one is logged at INFO on the target
/// `tenant_model::audit` with the reason.
#[derive(Clone)]
pub struct AdminScope {
    pool: CheckedPool,
    reason: Arc<String>,
}

impl std::fmt::Debug for AdminScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminScope")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl AdminScope {
    pub(crate) fn new(pool: CheckedPool, reason: Arc<String>) -> AdminScope {
        AdminScope { pool, reason }
    }

    /// The reason given for this admin work.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// A cross-tenant transaction; logged with the reason.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let (conn, mode) = self.pool.get().await?;
        tracing::info!(target: "tenant_model::audit", reason = %self.reason, "admin transaction");
        Ok(Tx::new(
            conn,
            Context::Admin(self.reason.clone()),
            mode,
            self.pool.sending().clone(),
        )
        .with_set_nulls(self.pool.set_nulls().clone()))
    }

    /// Runs `work` in one admin transaction (commit on `Ok`, roll back on
    /// `Err` or panic). The error type is [`Error`]; for your own, use
    /// [`AdminScope::try_run`].
    pub async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, Error>,
    {
        run_in(self.begin().await?, work).await
    }

    /// Creates a tenant (active, with a fresh UUIDv7 id) and returns it as
    /// stored. One audited admin transaction; a slug that is taken gives
    /// [`Error::UniqueViolation`].
    pub async fn create_tenant(
        &self,
        name: impl Into<String>,
        slug: impl Into<String>,
    ) -> Result<Record<Tenant>, Error> {
        let tenant = Tenant::new(name, slug);
        self.run(async |tx| tx.insert(tenant).await).await
    }

    /// Like [`AdminScope::run`], with an error type of your own that
    /// library errors convert into.
    pub async fn try_run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, E>,
        E: From<Error>,
    {
        run_in(self.begin().await?, work).await
    }
}
