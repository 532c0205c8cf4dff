//! The database test harness (feature `testing`): finds or starts
//! PostgreSQL and gives each test a fresh database with the schema applied
//! and login roles for the application and the admin.
//!
//! ```no_run
//! use tenant_model::prelude::*;
//! use tenant_model::testing::TestDb;
//!
//! #[tokio::test]
//! async fn no_tenant_context_sees_nothing() -> Result<(), tenant_model::Error> {
//!     let db = TestDb::new(&Schema::new()).await?;
//!     // Connect as the application role: superusers and table owners
//!     // bypass row-level security, so a test of tenant isolation that runs
//!     // as either proves nothing.
//!     let pool = db.app_pool(4);
//!     let conn = pool.get().await?;
//!     let rows = conn.query("SELECT id FROM tenants", &[]).await?;
//!     assert!(rows.is_empty()); // no tenant context: fail closed
//!     db.close().await // or just let `db` drop
//! }
//! # fn main() {}
//! ```
//!
//! # Which server
//!
//! [`server()`] looks once per process, in this order (see [`Locator`]):
//!
//! 1. `DATABASE_URL`, when set (a URL or a libpq key-value string). It must
//!    answer: a wrong `DATABASE_URL` is an error, not a reason to use
//!    another server.
//! 2. `postgres://postgres@127.0.0.1:5432/postgres`, if it answers within
//!    two seconds.
//! 3. A throwaway [`Cluster`] started from the local PostgreSQL binaries
//!    (`initdb` and `pg_ctl` on `PATH` or under `/usr/lib/postgresql/*/bin`)
//!    in a temp folder, on a Unix socket only. When the process runs as root
//!    the server runs as the `postgres` OS user (through `runuser`). It is
//!    stopped and its folder removed when the process exits, however it
//!    exits: see [`Cluster`].
//!
//! `TENANT_MODEL_SERVER=cluster` ([`SERVER_ENV`]) skips the first two and
//! goes straight to the throwaway cluster: how a machine with no server
//! running behaves, tried on one that has a server.
//!
//! `TENANT_MODEL_SERVER=citus` uses Citus instead: see below.
//!
//! Otherwise every test fails with [`Error::NoDatabase`],
//! whose message names the three options; tests never skip silently.
//! The user must be a superuser (or have `CREATEDB` and `CREATEROLE`); the
//! harness connects to its `postgres` database for cluster-wide work.
//! Connections use no TLS. The emitted DDL needs PostgreSQL 15 or later.
//!
//! A [`crate::Db`] for tenant work connects as the test's application
//! login role, as applications should (`Db::from_pool(db.app_pool(n))`):
//! a `Db` on the superuser's connection is refused with
//! [`Error::UnsafeRole`]. The superuser connection is for seeding data and
//! for changing the catalog in tests of [`crate::Db::audit`].
//!
//! # Citus
//!
//! [`citus_server()`] finds a Citus cluster once per process: the
//! coordinator named by `CITUS_URL` ([`CITUS_URL_ENV`], a superuser URL
//! whose `postgres` database has the `citus` extension and the workers
//! registered), else a throwaway [`CitusCluster`] (a coordinator and two
//! workers from the local binaries, on `127.0.0.1`, when `citus.so` is in
//! `pg_config --pkglibdir`), else [`Error::NoDatabase`] saying why. On a
//! Citus server [`TestDb::new_on`] creates the database on every node with
//! the extension and the nodes registered, creates the roles on the
//! coordinator (Citus propagates them), and applies the schema's Citus DDL
//! ([`crate::Target::Citus`]); no template is used. [`TestDb::app_db`] gives a
//! [`crate::Db`] in the harness's mode. With `TENANT_MODEL_SERVER=citus`,
//! [`server()`] is the Citus server, so every [`TestDb::new`] runs on it.
//!
//! # Behind PgBouncer
//!
//! With `TENANT_MODEL_POOLER=pgbouncer` ([`POOLER_ENV`]) the harness starts
//! one [`PgBouncer`] per process, in transaction mode with a server pool of
//! [`PgBouncer::DEFAULT_POOL_SIZE`] per database and user, on a free
//! loopback port in front of the server above, and every [`TestDb::new`]
//! routes its application and admin connections through it
//! ([`TestDb::behind`]); [`TestDb::app_db`] then gives a `Db` in
//! [`crate::StatementMode::PoolerSafe`]. The superuser's connections (the
//! template, seeding) stay direct. If PgBouncer cannot be started, every
//! test fails: asking for the pooler never silently tests without it.
//!
//! # Templates
//!
//! Migrating once and cloning is faster than migrating per test. The first
//! [`TestDb::new`] for a given DDL (and role names) builds a template
//! database, `tm_tpl_<first 16 hex digits of a SHA-256 of them>`: it
//! creates the schema's two group roles (`NOLOGIN NOSUPERUSER NOBYPASSRLS`)
//! if missing, creates the database, applies the DDL as the superuser, and
//! marks it `IS_TEMPLATE` with connections disallowed; only then is it used.
//! This happens under a PostgreSQL advisory lock taken in the `postgres`
//! database, so parallel tests and parallel test processes build each
//! template once and never race on creating the cluster-wide roles. Each
//! test's database is then `CREATE DATABASE ... TEMPLATE tm_tpl_...`.
//!
//! Templates stay on the server as a cache across runs: the next run with
//! the same DDL starts at once; a changed DDL gets a new template. On a
//! long-lived server, old ones can be removed with
//! `ALTER DATABASE tm_tpl_... IS_TEMPLATE false; DROP DATABASE tm_tpl_...;`.
//!
//! # Each test's database
//!
//! [`TestDb`] names the database after the test (`tm_<test path>_<8 hex>`)
//! and creates two login roles for it, `<name>_app` in the application role
//! and `<name>_admin` in the admin role, each with a random password (so
//! the harness also works on servers that ask for one). A passing test's
//! database and roles are dropped when the `TestDb` is dropped; a panicking
//! test's are kept, and the harness prints how to connect to them. With a
//! throwaway cluster the server still stops when the tests exit, but its
//! folder is then kept and the message says how to start it again.

mod citus;
mod cluster;
mod database;
mod locate;
mod pgbouncer;

pub use citus::{CitusCluster, CitusNodes, CITUS_URL_ENV};
pub use cluster::Cluster;
pub use database::TestDb;
pub use locate::{Locator, Origin, Server, LOCALHOST_URL, SERVER_ENV};
pub use pgbouncer::{pooler, pooler_requested, shared_pgbouncer, PgBouncer, POOLER_ENV};

use tokio::sync::OnceCell;
use tokio_postgres::{Client, Config, NoTls};

use crate::Error;

/// The server every [`TestDb::new`] uses, found once per process with
/// [`Locator::from_env`] and reused (a failure is remembered too, so every
/// test fails fast with the same message). Benches and other tools can use
/// it for their own connections.
///
/// A throwaway cluster found here lives until the process exits.
///
/// # Errors
///
/// [`Error::NoDatabase`] when no server can be found or started.
pub async fn server() -> Result<&'static Server, Error> {
    if locate::env_var(SERVER_ENV).as_deref() == Some("citus") {
        return citus_server().await;
    }
    static SERVER: OnceCell<Result<Server, String>> = OnceCell::const_new();
    located_once(&SERVER, Locator::from_env).await
}

/// The server `locator` finds, located once per process and kept in `cell`
/// (a failure too, as its message: every caller gets the same answer).
async fn located_once(
    cell: &'static OnceCell<Result<Server, String>>,
    locator: impl FnOnce() -> Locator,
) -> Result<&'static Server, Error> {
    let found = cell
        .get_or_init(|| async {
            locator().locate().await.map_err(|e| match e {
                Error::NoDatabase(message) => message,
                other => other.to_string(),
            })
        })
        .await;
    found
        .as_ref()
        .map_err(|message| Error::NoDatabase(message.clone()))
}

/// The Citus cluster of this process, found once with
/// [`Locator::citus`]: the coordinator named by `CITUS_URL`
/// ([`CITUS_URL_ENV`]), else a throwaway [`CitusCluster`] (coordinator and
/// two workers from the local binaries, when the `citus` extension is
/// installed), stopped when the process exits. With
/// `TENANT_MODEL_SERVER=citus`, [`server()`] returns this one too, so every
/// [`TestDb::new`] runs on Citus.
///
/// Tests written for Citus call this and, on `Err`, print a loud
/// `NOT RUN: no Citus ...` banner with the reason rather than pass
/// silently (see `tests/integration/citus.rs`).
///
/// # Errors
///
/// [`Error::NoDatabase`] when `CITUS_URL` is unset and the extension is
/// not installed, or the cluster cannot be reached or started.
pub async fn citus_server() -> Result<&'static Server, Error> {
    static CITUS: OnceCell<Result<Server, String>> = OnceCell::const_new();
    located_once(&CITUS, || {
        Locator::new().citus(locate::env_var(CITUS_URL_ENV).as_deref())
    })
    .await
}

/// Connects and spawns the connection task on the current runtime.
async fn connect(config: &Config) -> Result<Client, Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "test database connection ended with an error");
        }
    });
    Ok(client)
}
