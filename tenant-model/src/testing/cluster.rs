//! A throwaway PostgreSQL cluster: `initdb` into a temp folder, a server on a
//! Unix socket in that folder, and a watchdog that stops it when the process
//! that started it exits, however it exits.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::Error;

/// The superuser `initdb` creates.
const SUPERUSER: &str = "postgres";
/// The OS user created to run the server when we are root and there is no
/// `postgres` user.
const FALLBACK_OS_USER: &str = "tenant_model_pg";
/// The marker file that tells the watchdog to keep the data directory.
const KEEP_MARKER: &str = "keep";

/// The watchdog: waits for end-of-file on its standard input (the write end
/// is held by the process that started the cluster, so the kernel closes it
/// when that process exits, even on `SIGKILL`), then stops the server and
/// removes the folder unless the keep marker is there.
/// `$1` folder, `$2` data directory, `$3` pg_ctl, `$4` OS user ('' = none).
const WATCHDOG: &str = r#"trap '' INT HUP
read -r _ || :
if [ -f "$2/postmaster.pid" ]; then
  if [ -n "$4" ]; then
    runuser -u "$4" -- "$3" stop -D "$2" -m immediate -w -t 30
  else
    "$3" stop -D "$2" -m immediate -w -t 30
  fi
fi >/dev/null 2>&1
if [ ! -e "$1/keep" ]; then rm -rf "$1"; fi
"#;

/// A throwaway PostgreSQL server in a temp folder, reachable only through a
/// Unix socket in that folder, with the `postgres` superuser and trust
/// authentication.
///
/// PostgreSQL refuses to run as root. When the current process is root the
/// folder is handed to the `postgres` OS user (or, if there is none, to a
/// system user `tenant_model_pg` created with `useradd`) and `initdb` and
/// `pg_ctl` run through `runuser`.
///
/// The server is stopped and the folder removed when the `Cluster` is
/// dropped, and also when the process exits without dropping it (a value in
/// a `static`, `std::process::exit`, a panic that aborts, `SIGKILL`): a
/// small detached shell watchdog waits for end-of-file on a pipe only this
/// process holds, which the kernel closes when the process ends.
///
/// ```no_run
/// # fn main() -> Result<(), tenant_model::Error> {
/// let cluster = tenant_model::testing::Cluster::start()?;
/// let config = cluster.config(); // tokio_postgres::Config, user postgres
/// # let _ = config;
/// drop(cluster); // stops the server and removes the folder
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    pg_ctl: PathBuf,
    os_user: Option<String>,
    options: String,
    watchdog: Option<Child>,
    lifeline: Option<ChildStdin>,
}

impl Cluster {
    /// Starts a new cluster from the local PostgreSQL binaries: `initdb` and
    /// `pg_ctl` from `PATH`, else from the distribution's folders
    /// (`/usr/lib/postgresql/<version>/bin`, `/usr/pgsql-<version>/bin`,
    /// `/usr/local/pgsql/bin`), highest version first.
    ///
    /// This blocks for the second or two that `initdb` and the server's
    /// start take; from async code, call it through
    /// `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`Error::NoDatabase`] when no binaries are found or a step fails; the
    /// message holds the failing command and what it printed.
    pub fn start() -> Result<Cluster, Error> {
        Cluster::start_node(None)
    }

    /// [`Cluster::start`], and with `tcp`, also listening on
    /// `127.0.0.1:<port>` with the extra server settings (`-c name=value`
    /// options): a node of a throwaway Citus cluster, which its peers reach
    /// over TCP.
    pub(super) fn start_node(tcp: Option<(u16, &str)>) -> Result<Cluster, Error> {
        let bin = find_binaries().ok_or_else(|| {
            Error::NoDatabase(format!(
                "no PostgreSQL server binaries (initdb and pg_ctl) on PATH or under {}",
                BIN_FOLDERS.join(", ")
            ))
        })?;
        let os_user = server_os_user_if_root()?;
        let dir = make_dir("tenant-model-pg", os_user.as_deref())?;
        let data_dir = dir.join("data");
        let (port, listen, extra) = match tcp {
            Some((port, extra)) => (port, "127.0.0.1", extra),
            None => (random_port(), "", ""),
        };
        let options = format!(
            "-k {} -c listen_addresses='{listen}' -p {port} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 {extra}",
            sh_quote(dir.as_os_str())
        );
        let mut cluster = Cluster {
            dir,
            data_dir,
            port,
            pg_ctl: bin.pg_ctl,
            os_user,
            options,
            watchdog: None,
            lifeline: None,
        };
        // From here on, dropping `cluster` (on an error below) cleans up.
        cluster.spawn_watchdog()?;
        cluster.run(
            &bin.initdb,
            &[
                "-D".as_ref(),
                cluster.data_dir.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let log = cluster.log_file();
        let started = cluster.run(
            &cluster.pg_ctl,
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                cluster.data_dir.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                cluster.options.as_ref(),
            ],
        );
        if let Err(error) = started {
            let message = match error {
                Error::NoDatabase(message) => message,
                other => other.to_string(),
            };
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(Error::NoDatabase(format!(
                "{message}\nserver log:\n{}",
                log.trim_end()
            )));
        }
        tracing::debug!(dir = %cluster.dir.display(), port, "started a throwaway PostgreSQL cluster");
        Ok(cluster)
    }

    /// The superuser's connection settings: the socket folder as host, the
    /// port, user `postgres`, database `postgres`.
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname("postgres");
        config
    }

    /// The temp folder: it holds the data directory, the socket and the
    /// server log (`server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder holding the Unix socket (the temp folder).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The port, which here only names the socket file (`.s.PGSQL.<port>`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Keeps the data directory when the cluster stops (the server is still
    /// stopped), so a failed test's database can be inspected afterwards with
    /// the command from [`Cluster::restart_command`].
    ///
    /// # Errors
    ///
    /// When the marker file cannot be written.
    pub fn keep_data_dir(&self) -> std::io::Result<()> {
        std::fs::write(self.dir.join(KEEP_MARKER), b"")
    }

    /// A shell command that starts a stopped, kept cluster again.
    pub fn restart_command(&self) -> String {
        let mut command = String::new();
        if let Some(user) = &self.os_user {
            let _ = write!(command, "runuser -u {user} -- ");
        }
        let _ = write!(
            command,
            "{} start -w -D {} -l {} -o {}",
            sh_quote(self.pg_ctl.as_os_str()),
            sh_quote(self.data_dir.as_os_str()),
            sh_quote(self.log_file().as_os_str()),
            sh_quote(self.options.as_ref()),
        );
        command
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn spawn_watchdog(&mut self) -> Result<(), Error> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("tenant-model-pg-watchdog")
            .arg(&self.dir)
            .arg(&self.data_dir)
            .arg(&self.pg_ctl)
            .arg(self.os_user.as_deref().unwrap_or(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C aimed at the tests spares it.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&self.dir);
                Error::NoDatabase(format!("cannot start the cluster's watchdog (sh): {e}"))
            })?;
        self.lifeline = child.stdin.take();
        self.watchdog = Some(child);
        Ok(())
    }

    /// Runs a PostgreSQL binary, as the server's OS user when we are root.
    fn run(&self, program: &Path, args: &[&OsStr]) -> Result<(), Error> {
        let mut command = match &self.os_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST");
        output(&mut command)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Closing the pipe wakes the watchdog, which stops the server and
        // removes the folder; waiting for it makes the drop synchronous.
        drop(self.lifeline.take());
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.wait();
        }
    }
}

/// Runs a command to completion; a failure becomes [`Error::NoDatabase`]
/// with the command line and its output.
fn output(command: &mut Command) -> Result<(), Error> {
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = command
        .output()
        .map_err(|e| Error::NoDatabase(format!("cannot run `{line}`: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(Error::NoDatabase(format!(
        "`{line}` failed ({}):\n{}{}",
        out.status,
        stderr.trim_end(),
        if stderr.trim().is_empty() {
            stdout.trim_end()
        } else {
            ""
        }
    )))
}

/// The operating-system user the server runs as when this process is root
/// (PostgreSQL refuses to run as root), else `None`.
pub(super) fn server_os_user_if_root() -> Result<Option<String>, Error> {
    match is_root()? {
        true => server_os_user().map(Some),
        false => Ok(None),
    }
}

/// A TCP port on `127.0.0.1` that nobody listens on right now (asked of the
/// kernel, then released).
pub(super) fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::NoDatabase(format!("cannot find a free TCP port on 127.0.0.1: {e}")))
}

/// The output of a command that should succeed, trimmed.
pub(super) fn capture(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn is_root() -> Result<bool, Error> {
    capture("id", &["-u"]).map(|uid| uid == "0").ok_or_else(|| {
        Error::NoDatabase("cannot tell whether we run as root (`id -u` failed)".into())
    })
}

/// The OS user to run the server as when we are root: `postgres`, else a
/// system user created for the purpose.
fn server_os_user() -> Result<String, Error> {
    for user in [SUPERUSER, FALLBACK_OS_USER] {
        if capture("id", &["-u", user]).is_some() {
            return Ok(user.to_owned());
        }
    }
    let created = output(Command::new("useradd").args([
        "--system",
        "--no-create-home",
        "--user-group",
        "--shell",
        "/usr/sbin/nologin",
        FALLBACK_OS_USER,
    ]));
    // Another process may have created it meanwhile.
    if capture("id", &["-u", FALLBACK_OS_USER]).is_some() {
        return Ok(FALLBACK_OS_USER.to_owned());
    }
    Err(Error::NoDatabase(format!(
        "PostgreSQL refuses to run as root, there is no `postgres` OS user and \
         creating `{FALLBACK_OS_USER}` failed: {}",
        created.err().map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// Creates the cluster's temp folder, mode 0700, owned by the server's user.
pub(super) fn make_dir(prefix: &str, os_user: Option<&str>) -> Result<PathBuf, Error> {
    let mut base = std::env::temp_dir();
    let traversable =
        |dir: &Path| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0);
    // A socket path must fit in 107 bytes, and the server's user must be
    // able to reach the folder.
    if base.as_os_str().len() > 60 || (os_user.is_some() && !traversable(&base)) {
        base = PathBuf::from("/tmp");
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = base.join(format!("{prefix}-{}", &id[..12]));
    let fail = |what: &str, e: std::io::Error| {
        let _ = std::fs::remove_dir_all(&dir);
        Error::NoDatabase(format!("cannot {what} {}: {e}", dir.display()))
    };
    std::fs::create_dir(&dir).map_err(|e| fail("create", e))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail("set the mode of", e))?;
    if let Some(user) = os_user {
        let ids = capture("id", &["-u", user]).zip(capture("id", &["-g", user]));
        let (uid, gid) = ids
            .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)))
            .ok_or_else(|| {
                let _ = std::fs::remove_dir_all(&dir);
                Error::NoDatabase(format!("cannot read the ids of OS user {user}"))
            })?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| fail("chown", e))?;
    }
    Ok(dir)
}

/// A port number: with a socket-only server it just names the socket file,
/// which lives in our own folder, so any number is free.
fn random_port() -> u16 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    20_000 + u16::from_le_bytes([bytes[0], bytes[1]]) % 40_000
}

/// A value quoted for `sh` (and for pg_ctl's `-o`, which goes through `sh`).
pub(super) fn sh_quote(value: &OsStr) -> String {
    format!("'{}'", value.to_string_lossy().replace('\'', r"'\''"))
}

/// The distribution folders searched after `PATH`; `*` is the version.
const BIN_FOLDERS: &[&str] = &[
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
];

struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

/// `initdb` and `pg_ctl` from one folder: the first on `PATH` that has both,
/// else the highest version in the distribution folders.
fn find_binaries() -> Option<Binaries> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find_map(|dir| binaries_in(&dir))
        .or_else(|| {
            let mut found: Vec<(Vec<u32>, PathBuf)> = BIN_FOLDERS
                .iter()
                .flat_map(|pattern| expand(pattern))
                .collect();
            found.sort_by(|a, b| b.0.cmp(&a.0));
            found.into_iter().find_map(|(_, dir)| binaries_in(&dir))
        })
}

/// `pg_config` from the folder of the server binaries, else from `PATH`.
pub(super) fn pg_config() -> Option<PathBuf> {
    let beside = find_binaries()
        .and_then(|bin| bin.initdb.parent().map(|dir| dir.join("pg_config")))
        .filter(|file| file.is_file());
    beside.or_else(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join("pg_config"))
            .find(|file| file.is_file())
    })
}

fn binaries_in(dir: &Path) -> Option<Binaries> {
    let executable = |name: &str| {
        let file = dir.join(name);
        let meta = std::fs::metadata(&file).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0)
            // Resolve symlinks (/usr/local/bin/initdb -> .../15/bin/initdb):
            // the tools find `postgres` beside their real location.
            .then(|| std::fs::canonicalize(&file).unwrap_or(file))
    };
    Some(Binaries {
        initdb: executable("initdb")?,
        pg_ctl: executable("pg_ctl")?,
    })
}

/// The folders matching a pattern with at most one `*` in a path component,
/// each with the version read from what the `*` matched.
fn expand(pattern: &str) -> Vec<(Vec<u32>, PathBuf)> {
    let Some(star) = pattern.find('*') else {
        return vec![(Vec::new(), PathBuf::from(pattern))];
    };
    let (head, tail) = (&pattern[..star], &pattern[star + 1..]);
    let (parent, prefix) = head.rsplit_once('/').unwrap_or(("", head));
    let (suffix, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let Ok(entries) = std::fs::read_dir(if parent.is_empty() { "/" } else { parent }) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
            let version = version
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((version, Path::new(parent).join(&name).join(rest)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(sh_quote("/tmp/a b".as_ref()), "'/tmp/a b'");
        assert_eq!(sh_quote("it's".as_ref()), r"'it'\''s'");
    }

    #[test]
    fn ports_are_in_range() {
        for _ in 0..100 {
            assert!((20_000..60_000).contains(&random_port()));
        }
    }

    #[test]
    fn expands_version_folders() {
        let base =
            std::env::temp_dir().join(format!("tm-expand-{}", uuid::Uuid::new_v4().simple()));
        for v in ["9.6", "15", "16", "notaversion"] {
            std::fs::create_dir_all(base.join(v).join("bin")).unwrap();
        }
        let pattern = format!("{}/*/bin", base.display());
        let mut found = expand(&pattern);
        found.sort();
        let versions: Vec<_> = found.iter().map(|(v, _)| v.clone()).collect();
        assert_eq!(versions, vec![vec![9, 6], vec![15], vec![16]]);
        assert_eq!(found[2].1, base.join("16").join("bin"));
        std::fs::remove_dir_all(base).unwrap();
    }
}
