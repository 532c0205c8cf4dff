//! A Citus cluster for tests: the coordinator named by `CITUS_URL`, or a
//! throwaway coordinator and two workers started from the local PostgreSQL
//! binaries when the `citus` extension is installed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use tokio_postgres::{Client, Config};

use super::cluster::{free_port, Cluster};
use super::connect;
use crate::Error;

/// The environment variable naming a Citus coordinator: a superuser URL
/// (or libpq key-value string) of a coordinator whose `postgres` database
/// has the `citus` extension and its workers registered.
pub const CITUS_URL_ENV: &str = "CITUS_URL";

/// How many shards each distributed table of a throwaway cluster gets
/// (small: tests create many databases, each with its own shards).
const SHARD_COUNT: u32 = 4;
/// How many workers a throwaway cluster has.
const WORKERS: usize = 2;

/// A throwaway Citus cluster: a coordinator and two workers, each a
/// [`Cluster`] of its own (a temp folder, stopped and removed when this is
/// dropped or the process exits), listening on `127.0.0.1` so the nodes
/// reach each other, with `shared_preload_libraries = 'citus'` and
/// `citus.shard_count = 4`. [`crate::testing::citus_server`] starts one
/// when `CITUS_URL` is not set and the extension is installed.
#[derive(Debug)]
pub struct CitusCluster {
    coordinator: Cluster,
    workers: Vec<Cluster>,
}

impl CitusCluster {
    /// Whether the local PostgreSQL has the `citus` extension: its
    /// `citus.so` in `pg_config --pkglibdir` (the `pg_config` beside the
    /// server binaries, else the one on `PATH`).
    ///
    /// # Errors
    ///
    /// Why not, as a sentence.
    pub fn installed() -> Result<PathBuf, String> {
        let pg_config = super::cluster::pg_config()
            .ok_or_else(|| "no pg_config beside the server binaries or on PATH".to_owned())?;
        let out = Command::new(&pg_config)
            .arg("--pkglibdir")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", pg_config.display()))?;
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let library = dir.join("citus.so");
        match library.is_file() {
            true => Ok(library),
            false => Err(format!(
                "the citus extension is not installed (no {})",
                library.display()
            )),
        }
    }

    /// Starts the three nodes (blocking: about as long as three
    /// [`Cluster::start`]s; from async code call it through
    /// `tokio::task::spawn_blocking`). The nodes are not yet a cluster:
    /// [`CitusCluster::join`] creates the extension and registers them.
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] when a node fails to start.
    pub fn start() -> Result<CitusCluster, Error> {
        let settings = format!(
            "-c shared_preload_libraries=citus -c citus.shard_count={SHARD_COUNT} \
             -c max_connections=300"
        );
        let node = || Cluster::start_node(Some((free_port()?, &settings)));
        let coordinator = node()?;
        let workers = (0..WORKERS).map(|_| node()).collect::<Result<_, _>>()?;
        Ok(CitusCluster {
            coordinator,
            workers,
        })
    }

    /// Creates the `citus` extension in every node's `postgres` database
    /// and registers the coordinator and the workers there.
    ///
    /// # Errors
    ///
    /// When a node does not answer or a Citus call fails.
    pub async fn join(&self) -> Result<(), Error> {
        for node in std::iter::once(&self.coordinator).chain(&self.workers) {
            let client = connect(&node.config()).await?;
            client
                .batch_execute("CREATE EXTENSION IF NOT EXISTS citus")
                .await?;
        }
        let coordinator = connect(&self.coordinator.config()).await?;
        let port = i32::from(self.coordinator.port());
        coordinator
            .execute(
                "SELECT citus_set_coordinator_host('127.0.0.1', $1)",
                &[&port],
            )
            .await?;
        for worker in &self.workers {
            let port = i32::from(worker.port());
            coordinator
                .execute("SELECT citus_add_node('127.0.0.1', $1)", &[&port])
                .await?;
        }
        Ok(())
    }

    /// The coordinator.
    pub fn coordinator(&self) -> &Cluster {
        &self.coordinator
    }

    /// The workers.
    pub fn workers(&self) -> &[Cluster] {
        &self.workers
    }
}

/// The nodes of a Citus cluster as its coordinator's `postgres` database
/// lists them (`pg_dist_node`): how each test database registers them.
#[derive(Debug, Clone)]
pub struct CitusNodes {
    /// The coordinator's own entry (`citus_set_coordinator_host`), when it
    /// has one.
    pub(super) coordinator: Option<(String, u16)>,
    /// The workers (`citus_add_node`).
    pub(super) workers: Vec<(String, u16)>,
}

impl CitusNodes {
    /// Reads the nodes from the coordinator; fails when the `citus`
    /// extension is not there or has no workers.
    pub(super) async fn read(coordinator: &Client) -> Result<CitusNodes, String> {
        let version = coordinator
            .query_opt(
                "SELECT extversion FROM pg_extension WHERE extname = 'citus'",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        if version.is_none() {
            return Err(
                "its `postgres` database has no citus extension (CREATE EXTENSION citus)"
                    .to_owned(),
            );
        }
        let rows = coordinator
            .query(
                "SELECT nodename, nodeport, groupid FROM pg_dist_node \
                 WHERE noderole = 'primary' AND isactive ORDER BY groupid",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut nodes = CitusNodes {
            coordinator: None,
            workers: Vec::new(),
        };
        for row in rows {
            let port = u16::try_from(row.get::<_, i32>(1)).map_err(|e| e.to_string())?;
            let node = (row.get::<_, String>(0), port);
            match row.get::<_, i32>(2) {
                0 => nodes.coordinator = Some(node),
                _ => nodes.workers.push(node),
            }
        }
        if nodes.workers.is_empty() {
            return Err("it has no workers (citus_add_node)".to_owned());
        }
        Ok(nodes)
    }

    /// The superuser's settings for `dbname` on each worker: `base` (the
    /// coordinator's) with the worker's host and port.
    pub(super) fn worker_configs(&self, base: &Config, dbname: &str) -> Vec<Config> {
        self.workers
            .iter()
            .map(|(host, port)| {
                let mut config = Config::new();
                config.host(host).port(*port).dbname(dbname);
                if let Some(user) = base.get_user() {
                    config.user(user);
                }
                if let Some(password) = base.get_password() {
                    config.password(password);
                }
                if let Some(timeout) = base.get_connect_timeout() {
                    config.connect_timeout(*timeout);
                }
                config
            })
            .collect()
    }

    /// The statements that register these nodes in a new database's
    /// `citus` extension, on the coordinator.
    pub(super) fn register_sql(&self) -> String {
        use crate::sql::sql_text::literal;
        let mut sql = String::new();
        if let Some((host, port)) = &self.coordinator {
            sql.push_str(&format!(
                "SELECT citus_set_coordinator_host({}, {port});\n",
                literal(host)
            ));
        }
        for (host, port) in &self.workers {
            sql.push_str(&format!(
                "SELECT citus_add_node({}, {port});\n",
                literal(host)
            ));
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_ports() {
        assert!(free_port().unwrap() > 0);
    }

    #[test]
    fn nodes_register_with_quoted_hosts() {
        let nodes = CitusNodes {
            coordinator: Some(("127.0.0.1".into(), 9700)),
            workers: vec![("w'1".into(), 9701)],
        };
        assert_eq!(
            nodes.register_sql(),
            "SELECT citus_set_coordinator_host('127.0.0.1', 9700);\n\
             SELECT citus_add_node('w''1', 9701);\n"
        );
        let mut base = Config::new();
        base.user("postgres").password("pw").host("c").port(1);
        let workers = nodes.worker_configs(&base, "tm_x");
        assert_eq!(workers[0].get_ports(), &[9701]);
        assert_eq!(workers[0].get_dbname(), Some("tm_x"));
        assert_eq!(workers[0].get_password(), Some(&b"pw"[..]));
    }
}
