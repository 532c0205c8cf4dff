//! Finding a PostgreSQL server: `DATABASE_URL`, the local default, or a
//! throwaway cluster.

use std::fmt::Write as _;
use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config};

use super::citus::{CitusCluster, CitusNodes, CITUS_URL_ENV};
use super::cluster::Cluster;
use super::connect;
use crate::Error;

/// The server tried when `DATABASE_URL` is not set.
pub const LOCALHOST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The environment variable that forces a throwaway cluster
/// (`TENANT_MODEL_SERVER=cluster`) or Citus (`TENANT_MODEL_SERVER=citus`):
/// see [`Locator::from_env`].
pub const SERVER_ENV: &str = "TENANT_MODEL_SERVER";

/// The database the harness connects to for cluster-wide work (creating
/// databases and roles, the template lock).
const MAINTENANCE_DB: &str = "postgres";
/// How long the local default may take to answer.
const LOCALHOST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `DATABASE_URL` may take to answer, unless it sets `connect_timeout`.
const DATABASE_URL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a [`Server`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The `DATABASE_URL` connection string.
    DatabaseUrl,
    /// The local default, [`LOCALHOST_URL`].
    Localhost,
    /// A throwaway [`Cluster`] started from the local binaries.
    Cluster,
    /// The Citus coordinator named by `CITUS_URL`.
    CitusUrl,
    /// A throwaway [`CitusCluster`] started from the local binaries.
    CitusCluster,
}

/// A PostgreSQL server the harness can use: the superuser's connection
/// settings for the maintenance database `postgres`, and the throwaway
/// cluster when there is one (stopped when the `Server` is dropped or the
/// process exits).
///
/// The user must be a superuser (or at least have `CREATEDB` and
/// `CREATEROLE`): the harness creates databases and roles.
#[derive(Debug)]
pub struct Server {
    config: Config,
    origin: Origin,
    cluster: Option<Cluster>,
    citus: Option<Citus>,
}

/// What a Citus server has besides its coordinator's settings.
#[derive(Debug)]
struct Citus {
    nodes: CitusNodes,
    /// Declared after nothing that needs it: dropping it stops the nodes.
    cluster: Option<CitusCluster>,
}

impl Server {
    /// The superuser's settings, for the maintenance database `postgres`.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The superuser's settings for another database on this server.
    pub fn database_config(&self, dbname: &str) -> Config {
        let mut config = self.config.clone();
        config.dbname(dbname);
        config
    }

    /// Where this server came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The throwaway cluster, when this server is one (for a throwaway
    /// Citus cluster, its coordinator).
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref().or_else(|| {
            self.citus
                .as_ref()
                .and_then(|c| c.cluster.as_ref())
                .map(CitusCluster::coordinator)
        })
    }

    /// Whether this server is a Citus coordinator.
    pub fn is_citus(&self) -> bool {
        self.citus.is_some()
    }

    /// The nodes of a Citus server (`None` for plain PostgreSQL).
    pub fn citus_nodes(&self) -> Option<&CitusNodes> {
        self.citus.as_ref().map(|c| &c.nodes)
    }

    /// The throwaway Citus cluster, when this server is one.
    pub fn citus_cluster(&self) -> Option<&CitusCluster> {
        self.citus.as_ref().and_then(|c| c.cluster.as_ref())
    }

    /// A superuser connection to the maintenance database; its connection
    /// task is spawned on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn connect(&self) -> Result<Client, Error> {
        connect(&self.config).await
    }

    /// The superuser's settings as a libpq connection string without the
    /// password (`host=... port=... user=... dbname=postgres`), for `psql`.
    pub fn conninfo(&self) -> String {
        conninfo(&self.config)
    }
}

/// Finds a server, in this order:
///
/// 1. `DATABASE_URL`, when set: it must answer, or locating fails (no
///    silent fallback to another server);
/// 2. [`LOCALHOST_URL`], if it answers within two seconds;
/// 3. a throwaway [`Cluster`] from the local PostgreSQL binaries;
///
/// else [`Error::NoDatabase`], with a message naming the three options and
/// why each failed.
///
/// [`crate::testing::server`] locates once per process with
/// [`Locator::from_env`]; build a `Locator` yourself to choose the inputs
/// (tests of the search, tools with their own settings).
///
/// ```no_run
/// # async fn f() -> Result<(), tenant_model::Error> {
/// use tenant_model::testing::Locator;
/// let server = Locator::new().localhost(None).locate().await?; // cluster only
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Locator {
    database_url: Option<String>,
    localhost: Option<String>,
    cluster: bool,
    /// Look for Citus instead (see [`Locator::citus`]).
    citus: bool,
    citus_url: Option<String>,
    /// Why the environment could not be read: reported by `locate`.
    env_error: Option<String>,
}

impl Default for Locator {
    fn default() -> Self {
        Locator::new()
    }
}

impl Locator {
    /// No `DATABASE_URL`, the local default, then a throwaway cluster. Reads
    /// no environment variable.
    pub fn new() -> Locator {
        Locator {
            database_url: None,
            localhost: Some(LOCALHOST_URL.to_owned()),
            cluster: true,
            citus: false,
            citus_url: None,
            env_error: None,
        }
    }

    /// [`Locator::new`] with `DATABASE_URL` from the environment (an empty
    /// value counts as unset).
    ///
    /// `TENANT_MODEL_SERVER=cluster` ([`SERVER_ENV`]) skips `DATABASE_URL`
    /// and the local default and starts a throwaway cluster, as on a
    /// machine where no server runs yet (to try that path on one where a
    /// server does). `TENANT_MODEL_SERVER=citus` looks for Citus instead
    /// ([`Locator::citus`] with `CITUS_URL`). Any other non-empty value
    /// makes [`Locator::locate`] fail with [`Error::NoDatabase`] naming it.
    pub fn from_env() -> Locator {
        Locator::from_vars(
            env_var("DATABASE_URL"),
            env_var(SERVER_ENV),
            env_var(CITUS_URL_ENV),
        )
    }

    /// [`Locator::from_env`] on given values of `DATABASE_URL`,
    /// [`SERVER_ENV`] and `CITUS_URL`.
    fn from_vars(
        database_url: Option<String>,
        server: Option<String>,
        citus_url: Option<String>,
    ) -> Locator {
        match server.as_deref() {
            None => Locator::new().database_url(database_url.as_deref()),
            Some("cluster") => Locator::new().localhost(None),
            Some("citus") => Locator::new().citus(citus_url.as_deref()),
            Some(other) => Locator {
                env_error: Some(format!(
                    "{SERVER_ENV}={other:?} is not understood: unset it, or set it to \"cluster\" \
                     to start a throwaway cluster or to \"citus\" to use Citus"
                )),
                ..Locator::new()
            },
        }
    }

    /// Sets the `DATABASE_URL` value: a URL (`postgres://user:pw@host/db`)
    /// or a key-value string (`host=/run/postgresql user=postgres`). `None`
    /// skips this step.
    pub fn database_url(mut self, url: Option<&str>) -> Locator {
        self.database_url = url.map(str::to_owned);
        self
    }

    /// Sets the local default tried second; `None` skips this step.
    pub fn localhost(mut self, url: Option<&str>) -> Locator {
        self.localhost = url.map(str::to_owned);
        self
    }

    /// Whether to start a throwaway cluster as the last resort.
    pub fn start_cluster(mut self, start: bool) -> Locator {
        self.cluster = start;
        self
    }

    /// Looks for a Citus cluster instead of plain PostgreSQL: the
    /// coordinator at `citus_url` (a superuser URL; its `postgres` database
    /// must have the `citus` extension and its workers registered), else a
    /// throwaway [`CitusCluster`] started from the local binaries when the
    /// `citus` extension is installed, else [`Error::NoDatabase`] saying
    /// which was tried.
    pub fn citus(mut self, citus_url: Option<&str>) -> Locator {
        self.citus = true;
        self.citus_url = citus_url.map(str::to_owned);
        self
    }

    /// Runs the search.
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] as described on [`Locator`].
    pub async fn locate(&self) -> Result<Server, Error> {
        if let Some(message) = &self.env_error {
            return Err(Error::NoDatabase(message.clone()));
        }
        if self.citus {
            return self.locate_citus().await;
        }
        if let Some(url) = &self.database_url {
            let config = maintenance_config(url)
                .map_err(|e| Error::NoDatabase(format!("DATABASE_URL is not valid: {e}")))?;
            let timeout = config
                .get_connect_timeout()
                .copied()
                .unwrap_or(DATABASE_URL_TIMEOUT);
            probe(&config, timeout).await.map_err(|e| {
                Error::NoDatabase(format!(
                    "DATABASE_URL is set, but connecting to it failed ({}): {e}",
                    conninfo(&config)
                ))
            })?;
            return Ok(Server {
                config,
                origin: Origin::DatabaseUrl,
                cluster: None,
                citus: None,
            });
        }

        let localhost = match &self.localhost {
            None => "not tried".to_owned(),
            Some(url) => match maintenance_config(url) {
                Err(e) => format!("not a valid connection string: {e}"),
                Ok(config) => match probe(&config, LOCALHOST_TIMEOUT).await {
                    Ok(()) => {
                        return Ok(Server {
                            config,
                            origin: Origin::Localhost,
                            cluster: None,
                            citus: None,
                        })
                    }
                    Err(e) => e,
                },
            },
        };

        let cluster = if self.cluster {
            match tokio::task::spawn_blocking(Cluster::start).await {
                Ok(Ok(cluster)) => {
                    let config = cluster.config();
                    match probe(&config, DATABASE_URL_TIMEOUT).await {
                        Ok(()) => {
                            return Ok(Server {
                                config,
                                origin: Origin::Cluster,
                                cluster: Some(cluster),
                                citus: None,
                            })
                        }
                        Err(e) => format!("it started but does not answer: {e}"),
                    }
                }
                Ok(Err(Error::NoDatabase(e))) => e,
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("starting it failed: {e}"),
            }
        } else {
            "not tried".to_owned()
        };

        Err(Error::NoDatabase(format!(
            "no PostgreSQL server found. Tried, in order:\n\
             1. DATABASE_URL: not set\n\
             2. {}: {localhost}\n\
             3. a throwaway cluster from the local PostgreSQL binaries (initdb, pg_ctl): {cluster}\n\
             Set DATABASE_URL to a server where the user may create databases and roles, \
             run PostgreSQL on 127.0.0.1:5432 with a `postgres` superuser that needs no password, \
             or install the PostgreSQL server binaries (e.g. `apt-get install postgresql`).",
            self.localhost.as_deref().unwrap_or(LOCALHOST_URL),
        )))
    }
}

impl Locator {
    /// The Citus search: `CITUS_URL`, else a throwaway Citus cluster.
    async fn locate_citus(&self) -> Result<Server, Error> {
        let unusable = |what: &str, e: String| {
            Error::NoDatabase(format!("no Citus: {what} is not a usable coordinator: {e}"))
        };
        if let Some(url) = &self.citus_url {
            let config = maintenance_config(url)
                .map_err(|e| Error::NoDatabase(format!("{CITUS_URL_ENV} is not valid: {e}")))?;
            let what = format!("{CITUS_URL_ENV} ({})", conninfo(&config));
            probe(&config, DATABASE_URL_TIMEOUT)
                .await
                .map_err(|e| unusable(&what, e))?;
            let client = connect(&config).await?;
            let nodes = CitusNodes::read(&client)
                .await
                .map_err(|e| unusable(&what, e))?;
            return Ok(Server {
                config,
                origin: Origin::CitusUrl,
                cluster: None,
                citus: Some(Citus {
                    nodes,
                    cluster: None,
                }),
            });
        }
        CitusCluster::installed().map_err(|e| {
            Error::NoDatabase(format!(
                "no Citus: {CITUS_URL_ENV} is not set and {e}; set {CITUS_URL_ENV} to a \
                 coordinator's superuser URL or install the citus extension"
            ))
        })?;
        let cluster = tokio::task::spawn_blocking(CitusCluster::start)
            .await
            .map_err(|e| Error::NoDatabase(format!("starting a Citus cluster failed: {e}")))??;
        cluster.join().await?;
        let config = cluster.coordinator().config();
        let client = connect(&config).await?;
        let nodes = CitusNodes::read(&client)
            .await
            .map_err(|e| unusable("the throwaway Citus cluster", e))?;
        tracing::debug!(
            workers = nodes.workers.len(),
            "started a throwaway Citus cluster"
        );
        Ok(Server {
            config,
            origin: Origin::CitusCluster,
            cluster: None,
            citus: Some(Citus {
                nodes,
                cluster: Some(cluster),
            }),
        })
    }
}

/// An environment variable's value; empty counts as unset.
pub(super) fn env_var(name: &str) -> Option<String> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string_lossy().into_owned())
}

/// Parses a connection string and points it at the maintenance database,
/// as user `postgres` when it names none.
fn maintenance_config(url: &str) -> Result<Config, tokio_postgres::Error> {
    let mut config: Config = url.parse()?;
    if config.get_user().is_none() {
        config.user("postgres");
    }
    config.dbname(MAINTENANCE_DB);
    Ok(config)
}

/// Connects and runs `select 1`, within `timeout` in all.
async fn probe(config: &Config, timeout: Duration) -> Result<(), String> {
    let attempt = async {
        let client = connect(config).await?;
        client.simple_query("select 1").await?;
        Ok::<_, Error>(())
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

/// Connection settings as a libpq key-value string, without the password.
pub(crate) fn conninfo(config: &Config) -> String {
    let quote = |v: &str| {
        if !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        {
            v.to_owned()
        } else {
            format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
        }
    };
    let mut out = String::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.to_string_lossy().into_owned(),
        })
        .collect();
    if !hosts.is_empty() {
        let _ = write!(out, "host={} ", quote(&hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        let _ = write!(out, "port={} ", ports.join(","));
    }
    if let Some(user) = config.get_user() {
        let _ = write!(out, "user={} ", quote(user));
    }
    if let Some(dbname) = config.get_dbname() {
        let _ = write!(out, "dbname={} ", quote(dbname));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_config_targets_postgres() {
        let config = maintenance_config("postgres://app:pw@db.example:6543/app_test").unwrap();
        assert_eq!(config.get_dbname(), Some("postgres"));
        assert_eq!(config.get_user(), Some("app"));
        let config = maintenance_config("host=/run/postgresql").unwrap();
        assert_eq!(config.get_user(), Some("postgres"));
    }

    #[test]
    fn the_environment_can_force_a_throwaway_cluster() {
        let url = Some("postgres://u@h/d".to_owned());
        let default = Locator::from_vars(url.clone(), None, None);
        assert_eq!(default.database_url, url);
        assert_eq!(default.localhost.as_deref(), Some(LOCALHOST_URL));
        let forced = Locator::from_vars(url.clone(), Some("cluster".into()), None);
        assert_eq!(forced.database_url, None);
        assert_eq!(forced.localhost, None);
        assert!(forced.cluster && forced.env_error.is_none());
        let citus = Locator::from_vars(url, Some("citus".into()), Some("postgres://c".into()));
        assert!(citus.citus && citus.env_error.is_none());
        assert_eq!(citus.citus_url.as_deref(), Some("postgres://c"));
        let wrong = Locator::from_vars(None, Some("clustre".into()), None);
        assert!(wrong
            .env_error
            .unwrap()
            .contains("\"clustre\" is not understood"));
    }

    #[test]
    fn conninfo_has_no_password() {
        let config = maintenance_config("postgres://app:secret@db.example:6543/x").unwrap();
        assert_eq!(
            conninfo(&config),
            "host=db.example port=6543 user=app dbname=postgres"
        );
        let mut config = Config::new();
        config.host_path("/tmp/a b").port(5432).user("o'k");
        assert_eq!(conninfo(&config), r"host='/tmp/a b' port=5432 user='o\'k'");
    }
}
