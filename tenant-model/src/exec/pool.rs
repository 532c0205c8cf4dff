//! Building the connection pools: deadpool-postgres with fast recycling and
//! timeouts on every wait, so nothing waits forever.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

/// How long a pool waits before giving up with
/// [`crate::Error::PoolTimeout`]. Every pool the library builds has all
/// three; [`PoolTimeouts::default`] gives the values below.
///
/// ```
/// use std::time::Duration;
/// use tenant_model::{Db, PoolTimeouts};
///
/// let config: tokio_postgres::Config = "postgres://app@localhost/saas".parse().unwrap();
/// let timeouts = PoolTimeouts { wait: Duration::from_secs(2), ..PoolTimeouts::default() };
/// let pool = Db::pool_with(config, 16, timeouts);
/// assert_eq!(pool.timeouts().wait, Some(Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolTimeouts {
    /// Waiting for a free slot when every connection is in use (default 30 s).
    pub wait: Duration,
    /// Opening a new connection, including the server's answer (default 10 s).
    pub create: Duration,
    /// Checking a returned connection before reuse (default 5 s). It also
    /// bounds the rollback of a dropped [`crate::Tx`]: a rollback that takes
    /// longer (a statement still running on the server) closes the
    /// connection, so its slot comes back.
    pub recycle: Duration,
}

impl Default for PoolTimeouts {
    fn default() -> Self {
        PoolTimeouts {
            wait: Duration::from_secs(30),
            create: Duration::from_secs(10),
            recycle: Duration::from_secs(5),
        }
    }
}

/// Which wait of the pool ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// Waiting for a free slot ([`PoolTimeouts::wait`]).
    Wait,
    /// Opening a connection ([`PoolTimeouts::create`]).
    Create,
    /// Checking a connection for reuse ([`PoolTimeouts::recycle`]).
    Recycle,
}

impl std::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Wait => "waiting for a free connection",
            TimeoutKind::Create => "opening a connection",
            TimeoutKind::Recycle => "checking a connection for reuse",
        })
    }
}

impl From<deadpool_postgres::TimeoutType> for TimeoutKind {
    fn from(kind: deadpool_postgres::TimeoutType) -> Self {
        match kind {
            deadpool_postgres::TimeoutType::Wait => TimeoutKind::Wait,
            deadpool_postgres::TimeoutType::Create => TimeoutKind::Create,
            deadpool_postgres::TimeoutType::Recycle => TimeoutKind::Recycle,
        }
    }
}

/// A pool of `max_size` connections for `config` (no TLS, fast recycling,
/// the tokio runtime for the timeouts). Connections are opened lazily.
pub(crate) fn build(
    config: tokio_postgres::Config,
    max_size: usize,
    timeouts: PoolTimeouts,
) -> Pool {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(timeouts.wait),
            create: Some(timeouts.create),
            recycle: Some(timeouts.recycle),
        })
        .build()
        .expect("a pool with a runtime always builds")
}
