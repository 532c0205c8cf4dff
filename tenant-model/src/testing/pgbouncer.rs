//! A throwaway PgBouncer in transaction mode in front of the test server,
//! for testing the library behind a transaction-mode pooler.
//!
//! [`PgBouncer::start`] writes a configuration into a temp folder and runs
//! the local `pgbouncer` binary (`PATH`, else `/usr/sbin/pgbouncer`) on a
//! free loopback port, in transaction mode with a small server pool
//! ([`PgBouncer::DEFAULT_POOL_SIZE`] server connections per database and
//! user), so that a client pool larger than that really moves its
//! transactions between server connections. Every database of the server
//! is reachable through it. Like the throwaway [`super::Cluster`], it is
//! stopped and its folder removed when the `PgBouncer` is dropped or the
//! process exits, however it exits.
//!
//! With `TENANT_MODEL_POOLER=pgbouncer` ([`POOLER_ENV`]), [`pooler()`]
//! starts one per process and [`super::TestDb`] routes its application and
//! admin connections through it and builds its [`crate::Db`] in
//! [`crate::StatementMode::PoolerSafe`].

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio_postgres::config::Host;
use tokio_postgres::Config;

use super::cluster::{free_port, make_dir, server_os_user_if_root, sh_quote};
use crate::Error;

/// The environment variable that puts the test harness behind PgBouncer:
/// `TENANT_MODEL_POOLER=pgbouncer`.
pub const POOLER_ENV: &str = "TENANT_MODEL_POOLER";

/// Where `pgbouncer` is looked for after `PATH`.
const FALLBACK_BINARY: &str = "/usr/sbin/pgbouncer";

/// Runs PgBouncer in the foreground until end-of-file on its standard input
/// (the write end is held by the process that started it, so the kernel
/// closes it when that process exits), then stops it and removes the
/// folder. `$1` folder, `$2` pgbouncer, `$3` configuration, `$4` OS user.
const WATCHDOG: &str = r#"trap '' INT HUP
if [ -n "$4" ]; then "$2" -u "$4" "$3" </dev/null >/dev/null 2>&1 &
else "$2" "$3" </dev/null >/dev/null 2>&1 & fi
pid=$!
read -r _ || :
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$1"
"#;

/// A PgBouncer in transaction mode on `127.0.0.1`, in front of one server.
#[derive(Debug)]
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    watchdog: Option<Child>,
    lifeline: Option<ChildStdin>,
}

impl PgBouncer {
    /// Server connections per database and user (`default_pool_size`).
    pub const DEFAULT_POOL_SIZE: usize = 4;

    /// The `pgbouncer` binary: on `PATH`, else `/usr/sbin/pgbouncer`.
    pub fn binary() -> Option<PathBuf> {
        let on_path = std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("pgbouncer"))
                .find(|candidate| candidate.is_file())
        });
        on_path.or_else(|| {
            let fallback = PathBuf::from(FALLBACK_BINARY);
            fallback.is_file().then_some(fallback)
        })
    }

    /// Starts PgBouncer in transaction mode in front of the server that
    /// `server` (the superuser's settings) connects to, and waits until it
    /// accepts connections.
    ///
    /// Clients are not authenticated by PgBouncer (`auth_type = trust`;
    /// it looks login roles up through the superuser, `auth_user`), so the
    /// server must accept the login roles on the connection PgBouncer makes
    /// (the harness's servers trust loopback and their Unix socket).
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] when `pgbouncer` is not installed, or does not
    /// start or answer within ten seconds (the message holds its log).
    pub async fn start(server: &Config) -> Result<PgBouncer, Error> {
        let binary = PgBouncer::binary().ok_or_else(|| {
            Error::NoDatabase(format!(
                "pgbouncer is not installed (not on PATH, not {FALLBACK_BINARY}); \
                 on Debian or Ubuntu: apt-get install pgbouncer"
            ))
        })?;
        let os_user = server_os_user_if_root()?;
        let dir = make_dir("tenant-model-pgbouncer", os_user.as_deref())?;
        let port = free_port().inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&dir);
        })?;
        let mut bouncer = PgBouncer {
            dir,
            port,
            watchdog: None,
            lifeline: None,
        };
        // From here on, dropping `bouncer` cleans up.
        bouncer.write_config(server, os_user.as_deref())?;
        bouncer.spawn(&binary, os_user.as_deref())?;
        bouncer.wait_until_ready(server).await?;
        Ok(bouncer)
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its folder (configuration, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `config` pointed at PgBouncer instead of the server: same user,
    /// password and database.
    pub fn route(&self, config: &Config) -> Config {
        let mut routed = Config::new();
        if let Some(user) = config.get_user() {
            routed.user(user);
        }
        if let Some(password) = config.get_password() {
            routed.password(password);
        }
        if let Some(dbname) = config.get_dbname() {
            routed.dbname(dbname);
        }
        routed
            .host("127.0.0.1")
            .port(self.port)
            .connect_timeout(Duration::from_secs(10));
        routed
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("pgbouncer.log")
    }

    fn write_config(&self, server: &Config, os_user: Option<&str>) -> Result<(), Error> {
        let fail = |e: std::io::Error| {
            Error::NoDatabase(format!("cannot write PgBouncer's configuration: {e}"))
        };
        let host = match server.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(dir)) => dir.display().to_string(),
            None => "127.0.0.1".to_owned(),
        };
        let port = server.get_ports().first().copied().unwrap_or(5432);
        let superuser = server.get_user().unwrap_or("postgres");
        let password = server
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        std::fs::write(
            self.dir.join("userlist.txt"),
            format!("{} {}\n", quote(superuser), quote(&password)),
        )
        .map_err(fail)?;
        let ini = format!(
            "[databases]\n\
             * = host={host} port={port}\n\
             \n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {listen}\n\
             unix_socket_dir =\n\
             pool_mode = transaction\n\
             default_pool_size = {pool}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             max_client_conn = 2000\n\
             auth_type = trust\n\
             auth_file = {dir}/userlist.txt\n\
             auth_user = {superuser}\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             server_reset_query = DISCARD ALL\n\
             server_reset_query_always = 0\n\
             logfile = {dir}/pgbouncer.log\n\
             pidfile = {dir}/pgbouncer.pid\n\
             log_connections = 0\n\
             log_disconnections = 0\n",
            listen = self.port,
            pool = PgBouncer::DEFAULT_POOL_SIZE,
            dir = self.dir.display(),
        );
        let ini_path = self.dir.join("pgbouncer.ini");
        std::fs::write(&ini_path, ini).map_err(fail)?;
        if let Some(user) = os_user {
            let status = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(&self.dir)
                .status()
                .map_err(fail)?;
            if !status.success() {
                return Err(Error::NoDatabase(format!(
                    "cannot hand {} to {user}",
                    self.dir.display()
                )));
            }
        }
        Ok(())
    }

    fn spawn(&mut self, binary: &Path, os_user: Option<&str>) -> Result<(), Error> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("tenant-model-pgbouncer-watchdog")
            .arg(&self.dir)
            .arg(binary)
            .arg(self.dir.join("pgbouncer.ini"))
            .arg(os_user.unwrap_or(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C aimed at the tests spares it.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                Error::NoDatabase(format!(
                    "cannot start PgBouncer ({}): {e}",
                    sh_quote(binary.as_os_str())
                ))
            })?;
        self.lifeline = child.stdin.take();
        self.watchdog = Some(child);
        Ok(())
    }

    async fn wait_until_ready(&self, server: &Config) -> Result<(), Error> {
        let mut probe = self.route(server);
        probe.dbname("postgres");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match probe.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    let task = tokio::spawn(connection);
                    let answered = client.simple_query("SELECT 1").await;
                    drop(client);
                    let _ = task.await;
                    if answered.is_ok() {
                        return Ok(());
                    }
                }
                Err(_) if tokio::time::Instant::now() < deadline => {}
                Err(e) => {
                    let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
                    return Err(Error::NoDatabase(format!(
                        "PgBouncer on 127.0.0.1:{} did not answer: {e}\n{log}",
                        self.port
                    )));
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.wait();
        }
    }
}

/// Whether `TENANT_MODEL_POOLER=pgbouncer` asks for the harness to go
/// through PgBouncer. Any other value is an error, not a silent default.
///
/// # Errors
///
/// [`Error::NoDatabase`] for a value other than `pgbouncer`.
pub fn pooler_requested() -> Result<bool, Error> {
    match std::env::var(POOLER_ENV) {
        Err(_) => Ok(false),
        Ok(value) if value.is_empty() => Ok(false),
        Ok(value) if value.eq_ignore_ascii_case("pgbouncer") => Ok(true),
        Ok(other) => Err(Error::NoDatabase(format!(
            "{POOLER_ENV}={other}: the only pooler the harness knows is `pgbouncer`"
        ))),
    }
}

/// The PgBouncer the harness routes through, when [`POOLER_ENV`] asks for
/// one: started once per process in front of [`super::server()`], and
/// stopped when the process exits. `None` when not asked for.
///
/// # Errors
///
/// [`Error::NoDatabase`] when it is asked for but cannot be started
/// (not installed, for one): never a silent fallback to a direct connection.
pub async fn pooler() -> Result<Option<&'static PgBouncer>, Error> {
    if !pooler_requested()? {
        return Ok(None);
    }
    shared_pgbouncer().await.map(Some)
}

/// One PgBouncer per process in front of [`super::server()`], started on
/// first use whatever [`POOLER_ENV`] says (for tests that always run
/// through PgBouncer when it is installed).
///
/// # Errors
///
/// [`Error::NoDatabase`] when it cannot be started.
pub async fn shared_pgbouncer() -> Result<&'static PgBouncer, Error> {
    static BOUNCER: OnceCell<Result<PgBouncer, String>> = OnceCell::const_new();
    let server = super::server().await?;
    let started = BOUNCER
        .get_or_init(|| async {
            PgBouncer::start(server.config())
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    started
        .as_ref()
        .map_err(|message| Error::NoDatabase(message.clone()))
}
