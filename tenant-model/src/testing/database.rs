//! A fresh database per test, cloned from a migrated template, with login
//! roles for the application and the admin.

use std::path::PathBuf;

use deadpool_postgres::Pool;
use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls};

use super::locate::{conninfo, Server};
use super::{connect, server};
use crate::sql::sql_text::{ident, literal};
use crate::{Error, Schema};

/// Changes whenever the way templates are built changes, so that templates
/// cached on a server by an older harness are not reused.
const TEMPLATE_FORMAT: &str = "tenant-model testing template 1";
/// The advisory lock (taken in the maintenance database) under which
/// templates and the schema's group roles are created.
const TEMPLATE_LOCK: i64 = i64::from_be_bytes(*b"tm_tmpl\0");
/// The advisory lock (taken in the coordinator's maintenance database)
/// under which a Citus test database's roles and nodes are set up or
/// dropped.
const CITUS_LOCK: i64 = i64::from_be_bytes(*b"tm_citus");
/// Room for the test's name in a database name: `tm_` + name + `_` +
/// 8 hex = at most 57 bytes, so that `<db>_admin` fits in 63.
const MAX_NAME_PART: usize = 45;

/// A fresh database for one test: the schema's DDL applied, owned by the
/// server's superuser, with two login roles made for this test:
///
/// - `<name>_app`, a member of the schema's application role
///   ([`Schema::app_role_name`]): neither superuser nor owner, no
///   `BYPASSRLS`, so row-level security applies to it;
/// - `<name>_admin`, a member of the schema's admin role
///   ([`Schema::admin_role_name`]).
///
/// Both inherit their group's privileges and policies. The database is
/// cloned from a template database named from a hash of the DDL
/// (`tm_tpl_<16 hex>`), built once per server and DDL and kept on the
/// server as a cache across runs (see the [module docs](super)).
///
/// Dropping a `TestDb` drops the database and the two roles, unless the
/// thread is panicking (a failed test): then they are kept and how to
/// connect is printed. A test that fails by returning `Err` does not
/// panic; call [`TestDb::keep`] to keep the database in that case.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    app_role: String,
    app_password: String,
    admin_role: String,
    admin_password: String,
    /// The superuser's settings for the maintenance database.
    server: Config,
    /// On Citus: the superuser's settings for each worker's maintenance
    /// database (empty on plain PostgreSQL).
    workers: Vec<Config>,
    /// The schema's `SET NULL` references, for [`TestDb::app_db`].
    set_nulls: Vec<crate::schema::SetNullReference>,
    cluster: Option<ClusterNote>,
    /// The loopback port of the PgBouncer that application and admin
    /// connections go through ([`TestDb::behind`]).
    pooler_port: Option<u16>,
    done: bool,
}

/// What a kept database needs from a throwaway cluster.
#[derive(Debug, Clone)]
struct ClusterNote {
    dir: PathBuf,
    restart: String,
}

impl TestDb {
    /// A fresh database with `schema`'s DDL, on the server that
    /// [`server()`](super::server) finds (once per process). The database is
    /// named after the current test (libtest names each test's thread after
    /// its path): `tm_<test path>_<8 hex>`.
    ///
    /// Call it from a tokio runtime (`#[tokio::test]`).
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] when no server can be found or started;
    /// [`Error::Schema`] when the models cannot be emitted together (see
    /// [`Schema::check`]); a database error when the DDL or the set-up fails.
    ///
    /// With `TENANT_MODEL_POOLER=pgbouncer` (see [`super::pooler()`]) the
    /// application and admin connections go through a PgBouncer in
    /// transaction mode ([`TestDb::behind`]), and [`TestDb::app_db`] gives a
    /// `Db` in [`crate::StatementMode::PoolerSafe`].
    pub async fn new(schema: &Schema) -> Result<TestDb, Error> {
        let db = TestDb::new_on(server().await?, schema).await?;
        Ok(match super::pooler().await? {
            Some(bouncer) => db.behind(bouncer),
            None => db,
        })
    }

    /// Routes the application and admin connections ([`TestDb::app_config`],
    /// [`TestDb::admin_config`] and what is built from them) through
    /// `bouncer`, which must front this database's server. The superuser's
    /// connections stay direct.
    pub fn behind(mut self, bouncer: &super::PgBouncer) -> TestDb {
        self.pooler_port = Some(bouncer.port());
        self
    }

    /// Whether application and admin connections go through a pooler.
    pub fn is_behind_pooler(&self) -> bool {
        self.pooler_port.is_some()
    }

    /// The statement mode for a `Db` on this database:
    /// [`crate::StatementMode::PoolerSafe`] behind a pooler, else the default.
    pub fn statement_mode(&self) -> crate::StatementMode {
        match self.pooler_port {
            Some(_) => crate::StatementMode::PoolerSafe,
            None => crate::StatementMode::Cached,
        }
    }

    /// [`TestDb::new`] on a given server. The `TestDb` must be dropped
    /// before the server is (a throwaway cluster stops with its `Server`).
    ///
    /// # Errors
    ///
    /// As [`TestDb::new`].
    pub async fn new_on(server: &Server, schema: &Schema) -> Result<TestDb, Error> {
        if let Some(nodes) = server.citus_nodes() {
            return TestDb::new_on_citus(server, nodes, schema).await;
        }
        let ddl = schema.try_create_sql()?;
        let template = template_name(schema, &ddl);
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = database_name(std::thread::current().name(), &suffix[..8]);

        let maintenance = connect(server.config()).await?;
        ensure_template(server, &maintenance, schema, &ddl, &template).await?;

        let db = TestDb::unmade(server, schema, name, Vec::new());
        // On an error below, dropping `db` removes whatever was created.
        db.create_login_roles(&maintenance, schema).await?;
        maintenance
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                ident(&db.name),
                ident(&template)
            ))
            .await?;
        Ok(db)
    }

    /// [`TestDb::new_on`] on a Citus coordinator. Citus keeps its metadata
    /// per database and does not propagate `CREATE DATABASE`, and a
    /// database with the extension cannot serve as a template (its
    /// maintenance daemon stays connected), so each test's database is
    /// built afresh: created on the coordinator and on every worker, the
    /// `citus` extension created in each, the nodes registered on the
    /// coordinator's copy as in its `postgres` database, then the schema's
    /// Citus DDL ([`Target::Citus`](crate::schema::Target)) applied on the
    /// coordinator. The login roles are created on the coordinator, which
    /// propagates them (and their group memberships) to the workers.
    async fn new_on_citus(
        server: &Server,
        nodes: &super::CitusNodes,
        schema: &Schema,
    ) -> Result<TestDb, Error> {
        let db = TestDb::empty_on_citus(server, nodes, schema).await?;
        apply_citus_ddl(&db.superuser_config(), &citus_ddl(schema)?).await?;
        Ok(db)
    }

    /// A database with no tables yet, and the two login roles in the
    /// schema's group roles: for tests of migrations, which build the
    /// schema themselves. On Citus the database is on every node with the
    /// `citus` extension and the nodes registered (see
    /// [`TestDb::new_on`]).
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or a set-up statement fails.
    pub async fn empty_on(server: &Server, schema: &Schema) -> Result<TestDb, Error> {
        if let Some(nodes) = server.citus_nodes() {
            return TestDb::empty_on_citus(server, nodes, schema).await;
        }
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = database_name(std::thread::current().name(), &suffix[..8]);
        let maintenance = connect(server.config()).await?;
        ensure_group_roles(&maintenance, schema).await?;
        let db = TestDb::unmade(server, schema, name, Vec::new());
        db.create_login_roles(&maintenance, schema).await?;
        maintenance
            .batch_execute(&format!("CREATE DATABASE {}", ident(&db.name)))
            .await?;
        Ok(db)
    }

    /// A `TestDb` value for `name`, with fresh passwords; nothing created.
    fn unmade(server: &Server, schema: &Schema, name: String, workers: Vec<Config>) -> TestDb {
        TestDb {
            set_nulls: schema.set_null_references(),
            app_role: format!("{name}_app"),
            app_password: uuid::Uuid::new_v4().simple().to_string(),
            admin_role: format!("{name}_admin"),
            admin_password: uuid::Uuid::new_v4().simple().to_string(),
            workers,
            name,
            server: server.config().clone(),
            cluster: server.cluster().map(|c| ClusterNote {
                dir: c.dir().to_owned(),
                restart: c.restart_command(),
            }),
            pooler_port: None,
            done: false,
        }
    }

    async fn empty_on_citus(
        server: &Server,
        nodes: &super::CitusNodes,
        schema: &Schema,
    ) -> Result<TestDb, Error> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = database_name(std::thread::current().name(), &suffix[..8]);
        let maintenance = connect(server.config()).await?;
        ensure_group_roles(&maintenance, schema).await?;
        let db = TestDb::unmade(
            server,
            schema,
            name,
            nodes.worker_configs(server.config(), "postgres"),
        );
        // On an error below, dropping `db` removes whatever was created.
        // Registering nodes rewrites cluster-wide catalogs on the workers
        // (Citus re-sends every role), which fails with `tuple concurrently
        // updated` when two databases do it at once: one at a time.
        let locked = maintenance
            .execute("SELECT pg_advisory_lock($1)", &[&CITUS_LOCK])
            .await;
        let set_up = match locked {
            Ok(_) => db.set_up_citus(&maintenance, nodes, schema).await,
            Err(e) => Err(e.into()),
        };
        let unlocked = maintenance
            .execute("SELECT pg_advisory_unlock($1)", &[&CITUS_LOCK])
            .await;
        set_up?;
        unlocked?;
        Ok(db)
    }

    /// The roles, the database on every node with the extension, and the
    /// nodes registered on the coordinator's copy.
    async fn set_up_citus(
        &self,
        maintenance: &Client,
        nodes: &super::CitusNodes,
        schema: &Schema,
    ) -> Result<(), Error> {
        self.create_login_roles(maintenance, schema).await?;
        let create = format!("CREATE DATABASE {}", ident(&self.name));
        // Citus only notes that it does not propagate CREATE DATABASE.
        maintenance.batch_execute(&create).await?;
        for worker in &self.workers {
            connect(worker).await?.batch_execute(&create).await?;
        }
        for worker in self.worker_superuser_configs() {
            connect(&worker)
                .await?
                .batch_execute("CREATE EXTENSION citus")
                .await?;
        }
        let coordinator = connect(&self.superuser_config()).await?;
        coordinator
            .batch_execute(&format!(
                "CREATE EXTENSION citus;\n{}",
                nodes.register_sql()
            ))
            .await?;
        Ok(())
    }

    /// Creates the two login roles (on Citus the coordinator propagates
    /// them to the workers).
    async fn create_login_roles(&self, maintenance: &Client, schema: &Schema) -> Result<(), Error> {
        let login = |role: &str, password: &str, group: &str| {
            format!(
                "CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
                 NOBYPASSRLS PASSWORD {} IN ROLE {};",
                ident(role),
                literal(password),
                ident(group)
            )
        };
        maintenance
            .batch_execute(&format!(
                "{}\n{}",
                login(&self.app_role, &self.app_password, schema.app_role_name()),
                login(
                    &self.admin_role,
                    &self.admin_password,
                    schema.admin_role_name()
                ),
            ))
            .await?;
        Ok(())
    }

    /// Whether this database is on a Citus cluster.
    pub fn is_citus(&self) -> bool {
        !self.workers.is_empty()
    }

    /// A [`crate::Db`] for tenant work on this database, as applications
    /// build it: the tenant pool (up to `pool_size` connections) as the
    /// application login role, an admin pool of two as the admin login
    /// role, in the harness's modes: the server mode
    /// ([`crate::ServerMode::Citus`] on Citus, [`crate::ServerMode::Plain`]
    /// otherwise) and [`TestDb::statement_mode`] (pooler-safe behind
    /// PgBouncer), so suites written for plain PostgreSQL run unchanged with
    /// `TENANT_MODEL_SERVER=citus` or `TENANT_MODEL_POOLER=pgbouncer`. It
    /// carries the schema's `SET NULL` references (see [`crate::Db::schema`]).
    pub fn app_db(&self, pool_size: usize) -> crate::Db {
        let mode = match self.is_citus() {
            true => crate::ServerMode::Citus,
            false => crate::ServerMode::Plain,
        };
        crate::Db::from_pool(self.app_pool(pool_size))
            .with_admin(self.admin_pool(2))
            .server_mode(mode)
            .with_statement_mode(self.statement_mode())
            .with_set_null_references(&self.set_nulls)
    }

    /// On Citus, the superuser's settings for this database on each worker
    /// (where the shards are, each a table named `<table>_<shard id>`);
    /// empty on plain PostgreSQL.
    pub fn worker_superuser_configs(&self) -> Vec<Config> {
        self.workers
            .iter()
            .map(|worker| {
                let mut config = worker.clone();
                config.dbname(&self.name);
                config
            })
            .collect()
    }

    /// On Citus, superuser connections to this database on each worker;
    /// empty on plain PostgreSQL.
    ///
    /// # Errors
    ///
    /// When a connection fails.
    pub async fn worker_superusers(&self) -> Result<Vec<Client>, Error> {
        let mut clients = Vec::new();
        for config in self.worker_superuser_configs() {
            clients.push(connect(&config).await?);
        }
        Ok(clients)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The application login role's name (`<name>_app`).
    pub fn app_role(&self) -> &str {
        &self.app_role
    }

    /// The admin login role's name (`<name>_admin`).
    pub fn admin_role(&self) -> &str {
        &self.admin_role
    }

    /// Settings to connect to this database as the server's superuser, who
    /// owns the tables and bypasses row-level security: for seeding and
    /// for making drift. A [`crate::Db`] on them is refused
    /// ([`Error::UnsafeRole`]); tenant work goes through [`TestDb::app_pool`].
    pub fn superuser_config(&self) -> Config {
        let mut config = self.server.clone();
        config.dbname(&self.name);
        config
    }

    /// Settings to connect to this database as the application login role:
    /// row-level security applies.
    ///
    /// Behind a pooler ([`TestDb::behind`]) they point at the pooler.
    pub fn app_config(&self) -> Config {
        let mut config = self.superuser_config();
        config.user(&self.app_role).password(&self.app_password);
        self.routed(config)
    }

    /// Settings to connect to this database as the admin login role.
    ///
    /// Behind a pooler ([`TestDb::behind`]) they point at the pooler.
    pub fn admin_config(&self) -> Config {
        let mut config = self.superuser_config();
        config.user(&self.admin_role).password(&self.admin_password);
        self.routed(config)
    }

    /// `config` pointed at the pooler, when there is one.
    fn routed(&self, mut config: Config) -> Config {
        if let Some(port) = self.pooler_port {
            let mut routed = Config::new();
            if let Some(user) = config.get_user() {
                routed.user(user);
            }
            if let Some(password) = config.get_password() {
                routed.password(password);
            }
            routed
                .dbname(&self.name)
                .host("127.0.0.1")
                .port(port)
                .connect_timeout(std::time::Duration::from_secs(10));
            config = routed;
        }
        config
    }

    /// A connection as the superuser; its connection task is spawned on the
    /// current tokio runtime.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn superuser(&self) -> Result<Client, Error> {
        connect(&self.superuser_config()).await
    }

    /// A connection as the application login role.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn app(&self) -> Result<Client, Error> {
        connect(&self.app_config()).await
    }

    /// A connection as the admin login role.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn admin(&self) -> Result<Client, Error> {
        connect(&self.admin_config()).await
    }

    /// A pool of up to `max_size` connections as the application login role,
    /// built like [`crate::Db::pool_from_config`] (default timeouts,
    /// connections open on demand).
    pub fn app_pool(&self, max_size: usize) -> Pool {
        pool(self.app_config(), max_size)
    }

    /// A pool of up to `max_size` connections as the admin login role.
    pub fn admin_pool(&self, max_size: usize) -> Pool {
        pool(self.admin_config(), max_size)
    }

    /// Drops the database (closing its connections) and the two login
    /// roles now, reporting failures instead of printing them.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or a `DROP` fails.
    pub async fn close(mut self) -> Result<(), Error> {
        self.done = true;
        self.cleanup().run().await
    }

    /// Keeps the database and roles (as a failed test does), prints how to
    /// connect, and returns the database's name.
    pub fn keep(mut self) -> String {
        self.done = true;
        self.report_kept("kept on request");
        std::mem::take(&mut self.name)
    }

    fn cleanup(&self) -> Cleanup {
        Cleanup {
            server: self.server.clone(),
            workers: self.workers.clone(),
            database: self.name.clone(),
            roles: [self.app_role.clone(), self.admin_role.clone()],
        }
    }

    fn report_kept(&self, why: &str) {
        let mut message = format!(
            "tenant-model: test database {name} {why}.\n  \
             connect: psql \"{superuser}\"\n  \
             as the application role: psql \"{app} password={app_password}\"\n  \
             drop it: DROP DATABASE {name} WITH (FORCE); DROP ROLE {app_role}, {admin_role};",
            name = self.name,
            superuser = conninfo(&self.superuser_config()),
            app = conninfo(&self.app_config()),
            app_password = self.app_password,
            app_role = self.app_role,
            admin_role = self.admin_role,
        );
        if let Some(cluster) = &self.cluster {
            let kept = std::fs::write(cluster.dir.join("keep"), b"");
            message.push_str(&format!(
                "\n  the throwaway server stops when the tests exit; {}: {}",
                match kept {
                    Ok(()) => format!(
                        "its folder {} is kept, restart it with",
                        cluster.dir.display()
                    ),
                    Err(e) => format!("its folder could not be kept ({e}), else restart it with"),
                },
                cluster.restart
            ));
        }
        eprintln!("{message}");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if std::thread::panicking() {
            self.report_kept("is kept for inspection because the test panicked");
            return;
        }
        // Drop may run inside a runtime, where blocking on another future is
        // not allowed: do the cleanup on a thread with a runtime of its own.
        let cleanup = self.cleanup();
        let outcome = std::thread::Builder::new()
            .name("tenant-model-testdb-cleanup".into())
            .spawn(move || -> Result<(), String> {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?
                    .block_on(cleanup.run())
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| e.to_string())
            .and_then(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|_| Err("the cleanup thread panicked".into()))
            });
        if let Err(e) = outcome {
            eprintln!(
                "tenant-model: could not drop test database {} and roles {}, {}: {e}",
                self.name, self.app_role, self.admin_role
            );
        }
    }
}

/// Everything needed to drop a test database and its roles.
struct Cleanup {
    server: Config,
    /// On Citus, each worker's maintenance database.
    workers: Vec<Config>,
    database: String,
    roles: [String; 2],
}

impl Cleanup {
    async fn run(self) -> Result<(), Error> {
        let client = connect(&self.server).await?;
        if !self.workers.is_empty() {
            // See `TestDb::new_on_citus`: role changes, one at a time.
            client
                .execute("SELECT pg_advisory_lock($1)", &[&CITUS_LOCK])
                .await?;
        }
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&self.database)
        );
        client.batch_execute(&drop).await?;
        for worker in &self.workers {
            connect(worker).await?.batch_execute(&drop).await?;
        }
        client
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {}, {}",
                ident(&self.roles[0]),
                ident(&self.roles[1])
            ))
            .await?;
        Ok(())
    }
}

fn pool(config: Config, max_size: usize) -> Pool {
    crate::Db::pool_from_config(config, max_size)
}

/// `tm_tpl_` and the first 16 hex digits of a SHA-256 of the DDL, the role
/// names and the harness's template format.
fn template_name(schema: &Schema, ddl: &str) -> String {
    let mut hash = Sha256::new();
    for part in [
        TEMPLATE_FORMAT,
        schema.app_role_name(),
        schema.admin_role_name(),
        ddl,
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("tm_tpl_{hex}")
}

/// `tm_<test path>_<suffix>`: the thread's name (libtest's test path)
/// lower-cased, runs of other characters turned into one `_`, and cut
/// from the front to fit (the test's own name is at the end).
fn database_name(thread: Option<&str>, suffix: &str) -> String {
    let mut part = String::new();
    for c in thread.unwrap_or("test").chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            part.push(c);
        } else if !part.is_empty() && !part.ends_with('_') {
            part.push('_');
        }
    }
    if part.len() > MAX_NAME_PART {
        part.drain(..part.len() - MAX_NAME_PART);
    }
    let part = part.trim_matches('_');
    let part = if part.is_empty() { "test" } else { part };
    format!("tm_{part}_{suffix}")
}

/// Makes sure the template for `ddl` exists and the schema's group roles
/// exist, building them under a cluster-wide lock when they do not.
async fn ensure_template(
    server: &Server,
    maintenance: &Client,
    schema: &Schema,
    ddl: &str,
    template: &str,
) -> Result<(), Error> {
    if ready(maintenance, schema, template).await? {
        return Ok(());
    }
    // Advisory locks are per database: every harness process takes this one
    // in the maintenance database, so they all contend for the same lock.
    // Unnamed statements (`query_typed`) throughout: no prepared statement
    // is left on the session, so a maintenance connection through a
    // transaction-mode pooler works too.
    maintenance
        .query_typed(
            "SELECT pg_advisory_lock($1)",
            &[(&TEMPLATE_LOCK, Type::INT8)],
        )
        .await?;
    let built = build_template(server, maintenance, schema, ddl, template).await;
    let unlocked = maintenance
        .query_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&TEMPLATE_LOCK, Type::INT8)],
        )
        .await;
    built?;
    unlocked?;
    Ok(())
}

/// Whether the template is complete (marked as a template, which is the last
/// step of building it) and both group roles exist.
async fn ready(maintenance: &Client, schema: &Schema, template: &str) -> Result<bool, Error> {
    let row = maintenance
        .query_typed_one(
            "SELECT coalesce((SELECT datistemplate FROM pg_database WHERE datname = $1::text), false) \
               AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2::text) \
               AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $3::text)",
            &[
                (&template, Type::TEXT),
                (&schema.app_role_name(), Type::TEXT),
                (&schema.admin_role_name(), Type::TEXT),
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// The schema's Citus DDL ([`Schema::target`] set to Citus).
fn citus_ddl(schema: &Schema) -> Result<String, Error> {
    Ok(schema
        .clone()
        .target(crate::Target::Citus)
        .try_create_sql()?)
}

/// Creates the schema's two group roles if missing, under the template
/// lock (on Citus, where there are no templates).
async fn ensure_group_roles(maintenance: &Client, schema: &Schema) -> Result<(), Error> {
    let exists = maintenance
        .query_one(
            "SELECT count(*) = 2 FROM pg_roles WHERE rolname IN ($1::text, $2::text)",
            &[&schema.app_role_name(), &schema.admin_role_name()],
        )
        .await?
        .get::<_, bool>(0);
    if exists {
        return Ok(());
    }
    maintenance
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await?;
    let created = create_group_roles(maintenance, schema).await;
    let unlocked = maintenance
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await;
    created?;
    unlocked?;
    Ok(())
}

/// Creates the schema's group roles, tolerating ones that exist.
async fn create_group_roles(maintenance: &Client, schema: &Schema) -> Result<(), Error> {
    for role in [schema.app_role_name(), schema.admin_role_name()] {
        let created = maintenance
            .batch_execute(&format!(
                "CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS",
                ident(role)
            ))
            .await;
        match created {
            Err(e)
                if e.code() == Some(&SqlState::DUPLICATE_OBJECT)
                    || e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
            other => other?,
        }
    }
    Ok(())
}

async fn build_template(
    server: &Server,
    maintenance: &Client,
    schema: &Schema,
    ddl: &str,
    template: &str,
) -> Result<(), Error> {
    // Roles are cluster-wide: created here, under the lock, rather than by
    // the DDL's own `DO` block racing in parallel tests.
    create_group_roles(maintenance, schema).await?;
    if ready(maintenance, schema, template).await? {
        return Ok(());
    }
    // A database by this name that is not marked as a template is what is
    // left of an interrupted build.
    let drop_template = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(template));
    maintenance.batch_execute(&drop_template).await?;
    maintenance
        .batch_execute(&format!("CREATE DATABASE {}", ident(template)))
        .await?;
    if let Err(e) = apply_ddl(server.database_config(template), ddl).await {
        let _ = maintenance.batch_execute(&drop_template).await;
        return Err(e);
    }
    maintenance
        .batch_execute(&format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
            ident(template)
        ))
        .await?;
    tracing::debug!(template, "built a test template database");
    Ok(())
}

/// Runs the Citus DDL as the superuser in one transaction, one statement
/// per message: Citus forwards some commands to the workers as the query
/// string it received, which fails on a worker when that string holds
/// several statements (`cannot insert multiple commands into a prepared
/// statement`). Shard DDL runs sequentially, as Citus requires to mix
/// reference and distributed tables in one transaction.
async fn apply_citus_ddl(config: &Config, ddl: &str) -> Result<(), Error> {
    let statements = crate::sql::sql_fragment::split_statements(ddl)
        .map_err(|e| Error::NoDatabase(format!("the Citus DDL does not split: {e}")))?;
    let mut client = connect(config).await?;
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        .await?;
    for statement in statements {
        tx.batch_execute(statement).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs the DDL as the superuser and waits until the session has ended (a
/// template with a connection cannot be cloned).
async fn apply_ddl(config: Config, ddl: &str) -> Result<(), Error> {
    let (client, connection) = config.connect(NoTls).await?;
    let connection = tokio::spawn(connection);
    let applied = if ddl.trim().is_empty() {
        Ok(())
    } else {
        client.batch_execute(ddl).await
    };
    drop(client);
    let _ = connection.await;
    applied.map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_test_path() {
        assert_eq!(
            database_name(Some("isolation::Users_see_only::their_rows"), "0123abcd"),
            "tm_isolation_users_see_only_their_rows_0123abcd"
        );
        assert_eq!(database_name(None, "0123abcd"), "tm_test_0123abcd");
        assert_eq!(
            database_name(Some("::--::"), "0123abcd"),
            "tm_test_0123abcd"
        );
        assert_eq!(database_name(Some("é"), "0123abcd"), "tm_test_0123abcd");
    }

    #[test]
    fn long_names_keep_their_end_and_leave_room_for_role_suffixes() {
        let path = format!("{}::the_end", "module::".repeat(20));
        let name = database_name(Some(&path), "0123abcd");
        assert!(name.len() <= 57, "{name}");
        assert!(name.ends_with("_the_end_0123abcd"), "{name}");
        assert!(!name.starts_with("tm__"), "{name}");
        assert!(format!("{name}_admin").len() <= 63);
    }

    #[test]
    fn template_names_follow_the_ddl_and_roles() {
        let schema = Schema::new();
        let a = template_name(&schema, "CREATE TABLE a ();");
        assert_eq!(a, template_name(&schema, "CREATE TABLE a ();"));
        assert_eq!(a.len(), "tm_tpl_".len() + 16);
        assert_ne!(a, template_name(&schema, "CREATE TABLE b ();"));
        assert_ne!(
            a,
            template_name(&schema.clone().app_role("other"), "CREATE TABLE a ();")
        );
    }
}
