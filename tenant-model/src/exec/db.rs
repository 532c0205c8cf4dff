//! `Db`: the entry point, over a deadpool-postgres pool.

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::audit::{AuditReport, ConnectionRole};
use crate::error::Error;
use crate::exec::checked_pool::CheckedPool;
use crate::exec::context::TenantContext;
use crate::exec::pool::PoolTimeouts;
use crate::exec::scope::{AdminScope, TenantScope};
use crate::exec::server_mode::ServerMode;
use crate::exec::statement_mode::{Sending, StatementMode};
use crate::model::record::Record;
use crate::model::tenant::Tenant;
use crate::model::tenant_id::TenantId;
use crate::schema::Schema;

/// The default pool size of [`Db::connect`].
pub const DEFAULT_POOL_SIZE: usize = 16;

/// A handle to the database: a pool for tenant work and, optionally, a
/// separate pool for audited cross-tenant (admin) work. Cheap to clone.
///
/// Connect the tenant pool as a login role that is a member of the
/// application role and nothing more: row-level security does not hold
/// against a superuser, a role with `BYPASSRLS`, or the owner of the tables
/// (or a member of the owner's role), since each of those can see every
/// tenant or switch RLS off. A `Db` refuses such a role with
/// [`Error::UnsafeRole`]: [`Db::connect`] at once, [`Db::from_pool`] on the
/// first checkout (or [`Db::check_role`]). The check is one query on the
/// first connection, never one per checkout; the [`crate::audit`] module
/// says what it looks at. [`Db::audit`] checks the rest of the catalog.
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
    pool: CheckedPool,
    admin_pool: Option<CheckedPool>,
    /// [`Db::insecure_allow_rls_bypass`].
    allow_rls_bypass: bool,
    /// [`Db::server_mode`].
    mode: ServerMode,
    /// [`Db::with_statement_mode`], shared by both pools.
    sending: Sending,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.inner.pool.pool().status())
            .field(
                "admin",
                &self.inner.admin_pool.as_ref().map(|p| p.pool().status()),
            )
            .field("allow_rls_bypass", &self.inner.allow_rls_bypass)
            .field("server_mode", &self.inner.mode)
            .field("statement_mode", &self.inner.sending.mode())
            .finish()
    }
}

impl Db {
    /// Wraps an existing pool (for TLS, or your own pool settings).
    ///
    /// Its role is checked on the first checkout, with one query (call
    /// [`Db::check_role`] to check at start-up instead): every scope fails
    /// with [`Error::UnsafeRole`] if it can escape row-level security.
    ///
    /// Use `RecyclingMethod::Fast` (the default): the library never leaves
    /// session state behind (after raw SQL it resets the session as the
    /// transaction ends), so a per-checkout cleanup round trip is waste. Set
    /// the pool's timeouts (see [`PoolTimeouts`]) and its runtime: without
    /// them a checkout may wait forever.
    pub fn from_pool(pool: Pool) -> Db {
        Db {
            inner: Arc::new(Inner {
                pool: CheckedPool::new(pool, false, ServerMode::Detect, Sending::Cached),
                admin_pool: None,
                allow_rls_bypass: false,
                mode: ServerMode::Detect,
                sending: Sending::Cached,
            }),
        }
    }

    /// Connects a pool of [`DEFAULT_POOL_SIZE`] to `url` (no TLS) and checks
    /// that the server answers and that the role cannot escape row-level
    /// security (one query).
    ///
    /// # Errors
    ///
    /// [`Error::UnsafeRole`] for a superuser, a role with `BYPASSRLS`, the
    /// tables' owner or a member of its role (see [`crate::audit`]);
    /// [`Error::Pool`] when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Db, Error> {
        let db = Db::from_pool(Db::pool_for(url, DEFAULT_POOL_SIZE)?);
        db.check_role().await?;
        Ok(db)
    }

    /// Connects like [`Db::connect`] to `DATABASE_URL`.
    ///
    /// There is no fallback to a local server: the usual local connection
    /// (`postgres://postgres@localhost`) is a superuser, which a `Db`
    /// refuses. Point `DATABASE_URL` at the application's login role; for
    /// tests and examples, `tenant_model::testing::TestDb` (feature `testing`)
    /// finds or starts a server and makes such a role.
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] when `DATABASE_URL` is unset or does not
    /// answer; [`Error::UnsafeRole`] as for [`Db::connect`].
    pub async fn connect_default() -> Result<Db, Error> {
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            Error::NoDatabase(
                "DATABASE_URL is not set: set it to a URL that logs in as the application's \
                 role (a member of tenant_model_app, not a superuser or the tables' owner); \
                 tests and examples can use tenant_model::testing::TestDb (feature `testing`), \
                 which finds or starts PostgreSQL and makes such a role"
                    .to_owned(),
            )
        })?;
        Db::connect(&url).await.map_err(|e| match e {
            Error::UnsafeRole { .. } => e,
            e => Error::NoDatabase(format!("DATABASE_URL ({url}) does not answer: {e}")),
        })
    }

    /// The role the tenant pool logs in as, checked: reads it on the first
    /// call or checkout (one query), then returns what was read.
    ///
    /// ```no_run
    /// # async fn f(pool: deadpool_postgres::Pool) -> Result<(), tenant_model::Error> {
    /// let db = tenant_model::Db::from_pool(pool);
    /// let role = db.check_role().await?; // fail at start-up, not at the first request
    /// println!("connected as {}", role.name);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::UnsafeRole`] when the role can escape row-level security
    /// (unless [`Db::insecure_allow_rls_bypass`]); [`Error::Pool`] when no
    /// connection can be had.
    pub async fn check_role(&self) -> Result<&ConnectionRole, Error> {
        self.inner.pool.role().await
    }

    /// **Insecure, for local development only**: lets a pool whose role
    /// escapes row-level security (a superuser, a role with `BYPASSRLS`, the
    /// tables' owner) through, logging a warning on the target
    /// `tenant_model::audit` at its first connection instead of failing
    /// with [`Error::UnsafeRole`]. Row-level security then protects
    /// nothing: only the library's own `tenant_id` filters separate
    /// tenants, and raw SQL sees them all.
    ///
    /// Applies to the tenant and the admin pool, and checks their roles
    /// afresh. [`Db::connect`] fails before this can be called: use
    /// `Db::from_pool(Db::pool_for(url, n)?).insecure_allow_rls_bypass()`.
    ///
    /// This replaces the former `with_app_role`, which switched each
    /// transaction to the application role with `set_config('role', ..)`:
    /// any raw statement undoes that (`RESET ROLE`), so it was never a
    /// security boundary.
    pub fn insecure_allow_rls_bypass(self) -> Db {
        self.rebuilt(true, self.inner.mode)
    }

    /// Sets how the tenant context is sent: [`ServerMode::Detect`] (the
    /// default) reads it from the first connection of each pool (the
    /// `citus` extension in `pg_extension` means Citus);
    /// [`ServerMode::Citus`] and [`ServerMode::Plain`] skip the detection.
    /// Applies to the tenant and the admin pool, and checks them afresh.
    ///
    /// On Citus every transaction sends `SET LOCAL
    /// citus.propagate_set_commands = 'local'` and `SET LOCAL app.tenant_id
    /// = '<uuid>'` (or `app.is_superuser = 'on'` in the admin scope) as
    /// their own message, pipelined behind `BEGIN`, so the context reaches
    /// the workers in the same single round trip (see the guide's Citus
    /// chapter).
    ///
    /// ```no_run
    /// use tenant_model::{Db, ServerMode};
    /// # async fn f() -> Result<(), tenant_model::Error> {
    /// let db = Db::from_pool(Db::pool_for("postgres://app@coordinator/saas", 16)?)
    ///     .server_mode(ServerMode::Citus);
    /// assert_eq!(db.check_server_mode().await?, ServerMode::Citus);
    /// # Ok(()) }
    /// ```
    pub fn server_mode(self, mode: ServerMode) -> Db {
        self.rebuilt(self.inner.allow_rls_bypass, mode)
    }

    /// The server mode of the tenant pool, resolved: [`ServerMode::Plain`]
    /// or [`ServerMode::Citus`], detected on the first connection unless
    /// set with [`Db::server_mode`]. Like [`Db::check_role`], it checks the
    /// pool when no checkout has yet.
    ///
    /// # Errors
    ///
    /// As [`Db::check_role`].
    pub async fn check_server_mode(&self) -> Result<ServerMode, Error> {
        self.inner.pool.mode().await
    }

    /// Gives the `Db` the schema's `SET NULL` references
    /// ([`Schema::set_null_references`]), which on Citus the library
    /// carries out itself: the database cannot (Citus refuses `ON DELETE
    /// SET NULL` on a foreign key that includes `tenant_id`), so before a
    /// hard delete ([`crate::Executor::force_delete`],
    /// [`crate::Query::force_delete`]) of rows another table references
    /// that way (`deleted_by_id` of `soft_delete(by = ...)` is one), the
    /// referencing column is set to NULL in the same transaction. On plain
    /// PostgreSQL the foreign key's action does it and this changes
    /// nothing.
    ///
    /// Without it, on Citus, such a delete fails on the foreign key
    /// ([`Error::ForeignKeyViolation`]): it never leaves a dangling
    /// reference.
    ///
    /// ```no_run
    /// # async fn f(schema: tenant_model::Schema) -> Result<(), tenant_model::Error> {
    /// let db = tenant_model::Db::connect("postgres://app@coordinator/saas").await?
    ///     .schema(&schema);
    /// # Ok(()) }
    /// ```
    pub fn schema(self, schema: &Schema) -> Db {
        self.with_set_null_references(&schema.set_null_references())
    }

    /// [`Db::schema`] with the references themselves.
    pub fn with_set_null_references(self, references: &[crate::schema::SetNullReference]) -> Db {
        let set_nulls: Arc<[crate::schema::SetNullReference]> = Arc::from(references);
        Db {
            inner: Arc::new(Inner {
                pool: self.inner.pool.with_set_nulls(set_nulls.clone()),
                admin_pool: self
                    .inner
                    .admin_pool
                    .as_ref()
                    .map(|p| p.with_set_nulls(set_nulls.clone())),
                allow_rls_bypass: self.inner.allow_rls_bypass,
                mode: self.inner.mode,
                sending: self.inner.sending.clone(),
            }),
        }
    }

    /// The same pools, checked afresh with these settings.
    fn rebuilt(&self, allow_rls_bypass: bool, mode: ServerMode) -> Db {
        Db {
            inner: Arc::new(Inner {
                pool: self.inner.pool.rechecked(allow_rls_bypass, mode),
                admin_pool: self
                    .inner
                    .admin_pool
                    .as_ref()
                    .map(|p| p.rechecked(allow_rls_bypass, mode)),
                allow_rls_bypass,
                mode,
                sending: self.inner.sending.clone(),
            }),
        }
    }

    /// Chooses how statements are sent (see [`StatementMode`]): the default
    /// [`StatementMode::Cached`] prepares each statement once per
    /// connection; [`StatementMode::PoolerSafe`] sends unnamed statements
    /// only, so that no named prepared statement outlives its transaction,
    /// as a transaction-mode pooler (PgBouncer `pool_mode = transaction`)
    /// needs. Applies to the tenant and the admin pool.
    ///
    /// Behind such a pooler the cached mode fails with
    /// [`Error::PoolerStatement`]; [`Db::audit`] cannot tell a pooler from
    /// a server, so choose the mode from the URL you connect to. The
    /// guide's `pgbouncer` chapter lists the pooler settings that matter.
    ///
    /// ```no_run
    /// use tenant_model::{Db, StatementMode};
    /// # async fn f() -> Result<(), tenant_model::Error> {
    /// let db = Db::connect("postgres://app@localhost:6432/saas")
    ///     .await?
    ///     .with_statement_mode(StatementMode::PoolerSafe);
    /// assert_eq!(db.statement_mode(), StatementMode::PoolerSafe);
    /// # Ok(()) }
    /// ```
    pub fn with_statement_mode(self, mode: StatementMode) -> Db {
        if mode == self.statement_mode() {
            return self;
        }
        let sending = Sending::new(mode);
        Db {
            inner: Arc::new(Inner {
                pool: self.inner.pool.sending_with(sending.clone()),
                admin_pool: self
                    .inner
                    .admin_pool
                    .as_ref()
                    .map(|p| p.sending_with(sending.clone())),
                allow_rls_bypass: self.inner.allow_rls_bypass,
                mode: self.inner.mode,
                sending,
            }),
        }
    }

    /// How this `Db` sends statements ([`Db::with_statement_mode`]).
    pub fn statement_mode(&self) -> StatementMode {
        self.inner.sending.mode()
    }

    /// Audits the live database against `schema`, as the tenant pool's
    /// role: its attributes and memberships, row-level security and the
    /// policies of every model table (compared by their normalized
    /// expressions), `TRUNCATE` grants, views over tenant tables, the
    /// schema's roles and the server version. See [`crate::audit`].
    ///
    /// The audit runs even when the role would be refused (it reports it).
    ///
    /// ```no_run
    /// # async fn f(db: tenant_model::Db) -> Result<(), tenant_model::Error> {
    /// let report = db.audit(&tenant_model::Schema::new()).await?;
    /// assert!(report.is_ok(), "{report}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When no connection can be had or a catalog query fails. The audit
    /// creates temporary tables in a transaction it rolls back (see
    /// [`crate::audit`]): where `TEMPORARY` on the database is revoked from
    /// the role, it fails with [`Error::PermissionDenied`].
    pub async fn audit(&self, schema: &Schema) -> Result<AuditReport, Error> {
        let mut conn = self.inner.pool.get_unchecked().await?;
        crate::audit::run(&mut conn, schema).await
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
        crate::exec::pool::build(config, max_size, timeouts)
    }

    /// Adds the pool for admin work. It must connect as a login role that
    /// is a member of the schema's admin role (`tenant_model_admin`): the
    /// cross-tenant policies apply to that role only, so nothing the
    /// application role can set widens what it sees. Its role is checked
    /// like the tenant pool's, on the first admin checkout.
    pub fn with_admin(self, admin_pool: Pool) -> Db {
        let inner = Inner {
            pool: self.inner.pool.clone(),
            admin_pool: Some(
                CheckedPool::new(
                    admin_pool,
                    self.inner.allow_rls_bypass,
                    self.inner.mode,
                    self.inner.sending.clone(),
                )
                .with_set_nulls(self.inner.pool.set_nulls().clone()),
            ),
            allow_rls_bypass: self.inner.allow_rls_bypass,
            mode: self.inner.mode,
            sending: self.inner.sending.clone(),
        };
        Db {
            inner: Arc::new(inner),
        }
    }

    /// The tenant pool itself. Its connections carry no tenant context and
    /// are not checked: scopes are the way to use them.
    pub fn pool(&self) -> &Pool {
        self.inner.pool.pool()
    }

    /// A scope acting for one tenant.
    pub fn tenant(&self, tenant: impl Into<TenantId>) -> TenantScope {
        TenantScope::new(self.inner.pool.clone(), tenant.into())
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

    /// Creates a tenant through the admin scope (creating tenants is admin
    /// work, audited with the reason `"create tenant <slug>"`), and returns
    /// it as stored; its `id` is the [`TenantId`] to scope by.
    ///
    /// ```no_run
    /// # async fn f(db: tenant_model::Db) -> Result<(), tenant_model::Error> {
    /// let acme = db.create_tenant("Acme", "acme").await?;
    /// let scope = db.tenant(acme.id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::AdminUnavailable`] without an admin pool
    /// ([`Db::with_admin`]); [`Error::UniqueViolation`] when the slug is
    /// taken.
    pub async fn create_tenant(
        &self,
        name: impl Into<String>,
        slug: impl Into<String>,
    ) -> Result<Record<Tenant>, Error> {
        let slug = slug.into();
        self.admin(format!("create tenant {slug}"))?
            .create_tenant(name, slug)
            .await
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
