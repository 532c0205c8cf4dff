//! Plain PostgreSQL or Citus: how a [`crate::Db`] sends the tenant context.
//!
//! On Citus the context must reach the workers, where the shards and their
//! row-level security policies live. A transaction-local `set_config` does
//! not travel; `SET LOCAL` does, when `citus.propagate_set_commands` is
//! `'local'`. So on Citus each transaction sends, as its own simple-query
//! message pipelined behind `BEGIN` (never in the same query string as a
//! statement, which Citus refuses on distributed tables):
//!
//! ```sql
//! SET LOCAL citus.propagate_set_commands = 'local';
//! SET LOCAL app.tenant_id = '5f0c6e4a-9a53-4f3e-8d7e-2d1c4b0a9e11'
//! ```
//!
//! The value is formatted from a [`uuid::Uuid`] (hyphenated hex, nothing
//! else can come out of it), so no text reaches this SQL. Both settings are
//! `LOCAL`: they end with the transaction, so the session cleanup after raw
//! SQL (`RESET ALL`, see [`crate::SESSION_CLEANUP`]) cannot wipe them and
//! nothing is left for the connection's next user.

/// Which kind of server a [`crate::Db`] talks to, which decides how the
/// tenant context is sent (see [`crate::Db::server_mode`]).
///
/// The default, [`ServerMode::Detect`], looks at the first connection of
/// each pool (in the same check that reads the login role, once per pool):
/// the `citus` extension in `pg_extension` means Citus. Detection exists
/// because forgetting the mode on Citus fails closed but silently: the
/// workers would see no tenant and every query would return no rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerMode {
    /// Citus if the `citus` extension is installed in the database, else
    /// plain PostgreSQL; read once per pool, on its first connection.
    #[default]
    Detect,
    /// Plain PostgreSQL: the context is set with `set_config(..., true)`,
    /// its value bound as a parameter.
    Plain,
    /// Citus: the context is set with `SET LOCAL`, with
    /// `citus.propagate_set_commands = 'local'`, so it reaches the workers.
    Citus,
}

impl ServerMode {
    /// The mode of the server behind `client`: [`ServerMode::Detect`] reads
    /// `pg_extension`; the other two are taken as given.
    pub(crate) async fn resolve(
        self,
        client: &tokio_postgres::Client,
    ) -> Result<ServerMode, tokio_postgres::Error> {
        match self {
            ServerMode::Detect => {
                // Unnamed (no prepared statement), so it also works through
                // a transaction-mode pooler.
                let row = client
                    .query_typed_one(
                        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension \
                         WHERE extname = 'citus')",
                        &[],
                    )
                    .await?;
                Ok(match row.get::<_, bool>(0) {
                    true => ServerMode::Citus,
                    false => ServerMode::Plain,
                })
            }
            known => Ok(known),
        }
    }

    /// Whether this (resolved) mode is Citus.
    pub(crate) fn is_citus(self) -> bool {
        self == ServerMode::Citus
    }
}
