//! `Db`: the entry point, over a deadpool-postgres pool.

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::context::TenantContext;
use crate::error::Error;
use crate::pool::PoolTimeouts;
use crate::scope::{AdminScope, TenantScope};
use crate::tenant_id::TenantId;

/// The default pool size of [`Db::connect`].
pub const DEFAULT_POOL_SIZE: usize = 16;

/// A handle to the database: a pool for tenant work and, optionally, a
/// separate pool for audited cross-tenant (admin) work. Cheap to clone.
///
/// Connect the tenant pool as the application role — a role that is
/// neither superuser nor table owner, since row-level security does not
/// apply to those — or, if the app connects as an owner, name the
/// application role with [`Db::with_app_role`] and every transaction
/// switches to it (`set_config('role', ..., true)`, local to the
/// transaction).
///
/// ```no_run
/// use tenant_model::{Db, TenantId};
/// # async fn f(acme: TenantId) -> Result<(), tenant_model::Error> {
/// let db = Db::connect("postgres://app@localhost/saas").await?
///     .with_admin(Db::pool_for("postgres://app_admin@localhost/saas", 2)?);
/// let scope = db.tenant(acme);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    admin_pool: Option<Pool>,
    app_role: Option<Arc<String>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.inner.pool.status())
            .field("admin", &self.inner.admin_pool.as_ref().map(Pool::status))
            .field("app_role", &self.inner.app_role)
            .finish()
    }
}

impl Db {
    /// Wraps an existing pool (for TLS, or your own pool settings).
    ///
    /// Use `RecyclingMethod::Fast` (the default): the library never leaves
    /// session state behind (after raw SQL it resets the session as the
    /// transaction ends), so a per-checkout cleanup round trip is waste. Set
    /// the pool's timeouts (see [`PoolTimeouts`]) and its runtime: without
    /// them a checkout may wait forever.
    pub fn from_pool(pool: Pool) -> Db {
        Db {
            inner: Arc::new(Inner {
                pool,
                admin_pool: None,
                app_role: None,
            }),
        }
    }

    /// Connects a pool of [`DEFAULT_POOL_SIZE`] to `url` (no TLS) and checks
    /// that the server answers.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        let db = Db::from_pool(Db::pool_for(url, DEFAULT_POOL_SIZE)?);
        drop(db.inner.pool.get().await?);
        Ok(db)
    }

    /// Connects like [`Db::connect`] to the first PostgreSQL found:
    /// `DATABASE_URL`; else `postgres://postgres@127.0.0.1:5432/postgres`
    /// when it answers; else, with the `testing` feature, a throwaway
    /// cluster started from the local PostgreSQL binaries (see
    /// [`crate::testing::server`]). The error names the options.
    pub async fn connect_default() -> Result<Db, Error> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Db::connect(&url).await.map_err(|e| {
                Error::NoDatabase(format!("DATABASE_URL ({url}) does not answer: {e}"))
            });
        }
        const LOCAL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
        match Db::connect(LOCAL).await {
            Ok(db) => Ok(db),
            #[cfg(feature = "testing")]
            Err(_) => {
                let server = crate::testing::server().await?;
                Ok(Db::from_pool(Db::pool_from_config(
                    server.config().clone(),
                    DEFAULT_POOL_SIZE,
                )))
            }
            #[cfg(not(feature = "testing"))]
            Err(e) => Err(Error::NoDatabase(format!(
                "DATABASE_URL is not set and {LOCAL} does not answer ({e}); set DATABASE_URL, \
                 start PostgreSQL locally, or enable the `testing` feature to start a throwaway \
                 cluster from the local PostgreSQL binaries"
            ))),
        }
    }

    /// Builds a pool for `url` with `max_size` connections (no TLS, fast
    /// recycling, [`PoolTimeouts::default`]). Connections are opened lazily.
    pub fn pool_for(url: &str, max_size: usize) -> Result<Pool, Error> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| Error::NoDatabase(format!("bad database URL: {e}")))?;
        Ok(Db::pool_from_config(config, max_size))
    }

    /// Builds a pool from a `tokio_postgres::Config`, with
    /// [`PoolTimeouts::default`].
    pub fn pool_from_config(config: tokio_postgres::Config, max_size: usize) -> Pool {
        Db::pool_with(config, max_size, PoolTimeouts::default())
    }

    /// Builds a pool from a `tokio_postgres::Config` with the given
    /// timeouts (no TLS, fast recycling). A checkout that runs out of time
    /// fails with [`Error::PoolTimeout`].
    pub fn pool_with(
        config: tokio_postgres::Config,
        max_size: usize,
        timeouts: PoolTimeouts,
    ) -> Pool {
        crate::pool::build(config, max_size, timeouts)
    }

    /// Switches every transaction to `role` (for apps that connect as the
    /// schema owner): `set_config('role', role, true)` rides with the
    /// tenant context, so it costs no round trip and ends with the
    /// transaction.
    pub fn with_app_role(self, role: impl Into<String>) -> Db {
        let inner = Inner {
            pool: self.inner.pool.clone(),
            admin_pool: self.inner.admin_pool.clone(),
            app_role: Some(Arc::new(role.into())),
        };
        Db {
            inner: Arc::new(inner),
        }
    }

    /// Adds the pool for admin work. It must connect as a login role that
    /// is a member of the schema's admin role (`tenant_model_admin`): the
    /// cross-tenant policies apply to that role only, so nothing the
    /// application role can set widens what it sees.
    pub fn with_admin(self, admin_pool: Pool) -> Db {
        let inner = Inner {
            pool: self.inner.pool.clone(),
            admin_pool: Some(admin_pool),
            app_role: self.inner.app_role.clone(),
        };
        Db {
            inner: Arc::new(inner),
        }
    }

    /// The tenant pool.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// A scope acting for one tenant.
    pub fn tenant(&self, tenant: impl Into<TenantId>) -> TenantScope {
        TenantScope::new(
            self.inner.pool.clone(),
            tenant.into(),
            self.inner.app_role.clone(),
        )
    }

    /// A scope acting for the tenant of a verified context.
    pub fn for_context(&self, context: &TenantContext) -> TenantScope {
        self.tenant(context.tenant_id())
    }

    /// A scope for audited cross-tenant work. Every transaction is logged
    /// (target `tenant_model::audit`) with `reason`, which the transaction
    /// also carries as `app.admin_reason` for database-side auditing.
    pub fn admin(&self, reason: impl Into<String>) -> Result<AdminScope, Error> {
        let pool = self.inner.admin_pool.clone().ok_or_else(|| {
            Error::AdminUnavailable("this Db has no admin pool (see Db::with_admin)".to_owned())
        })?;
        Ok(AdminScope::new(pool, Arc::new(reason.into())))
    }

    /// The admin scope for a verified context whose user is a superuser.
    pub fn admin_for(
        &self,
        context: &TenantContext,
        reason: impl Into<String>,
    ) -> Result<AdminScope, Error> {
        if !context.is_superuser() {
            return Err(Error::AdminUnavailable(format!(
                "the context of tenant {} is not a superuser",
                context.tenant_id()
            )));
        }
        self.admin(reason)
    }
}
