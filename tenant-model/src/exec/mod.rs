//! Execution: the [`Db`](db::Db) handle and its pools (timeouts, the role
//! check), scopes and transactions carrying the tenant context, the CRUD
//! [`Executor`](executor::Executor), the statement cache policy and the
//! session cleanup after raw SQL.

pub(crate) mod atomic;
pub(crate) mod checked_pool;
pub(crate) mod context;
pub(crate) mod db;
pub(crate) mod executor;
pub(crate) mod pool;
pub(crate) mod scope;
pub(crate) mod server_mode;
pub(crate) mod session;
pub(crate) mod set_null;
pub(crate) mod statement;
pub(crate) mod statement_mode;
pub(crate) mod tx;
