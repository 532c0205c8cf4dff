//! A pool whose login role is checked once, on its first connection:
//! a role that can escape row-level security is refused. The same check
//! settles the [`ServerMode`] (plain PostgreSQL or Citus).

use std::sync::Arc;

use deadpool_postgres::{Object, Pool};
use tokio::sync::OnceCell;

use crate::audit::ConnectionRole;
use crate::error::Error;
use crate::exec::server_mode::ServerMode;
use crate::exec::statement_mode::Sending;
use crate::schema::SetNullReference;

/// A pool and the verdict on its role, shared by every clone (and so by
/// every scope made from the same [`crate::Db`]).
#[derive(Clone)]
pub(crate) struct CheckedPool {
    pool: Pool,
    gate: Arc<Gate>,
    /// [`crate::Db::schema`]: the `SET NULL` references the library carries
    /// out itself on Citus.
    set_nulls: Arc<[SetNullReference]>,
    /// How statements are sent on this pool's connections.
    sending: Sending,
}

struct Gate {
    /// Set once the role has been read and accepted (or let through by the
    /// opt-out); a refusal is not remembered, so every checkout of a
    /// refused pool fails, and one whose role is fixed recovers.
    accepted: OnceCell<Accepted>,
    /// [`crate::Db::insecure_allow_rls_bypass`]: warn instead of refusing.
    allow_bypass: bool,
    /// [`crate::Db::server_mode`], resolved at the first check.
    mode: ServerMode,
}

/// What the first check read.
struct Accepted {
    role: ConnectionRole,
    /// Never [`ServerMode::Detect`].
    mode: ServerMode,
}

impl CheckedPool {
    pub(crate) fn new(
        pool: Pool,
        allow_bypass: bool,
        mode: ServerMode,
        sending: Sending,
    ) -> CheckedPool {
        CheckedPool {
            pool,
            gate: Arc::new(Gate {
                accepted: OnceCell::new(),
                allow_bypass,
                mode,
            }),
            set_nulls: Arc::from(Vec::new()),
            sending,
        }
    }

    /// The same pool (and verdict) with these `SET NULL` references.
    pub(crate) fn with_set_nulls(&self, set_nulls: Arc<[SetNullReference]>) -> CheckedPool {
        CheckedPool {
            set_nulls,
            ..self.clone()
        }
    }

    /// The `SET NULL` references the library carries out on Citus.
    pub(crate) fn set_nulls(&self) -> &Arc<[SetNullReference]> {
        &self.set_nulls
    }

    /// The same pool, checked afresh, with or without the opt-out, in the
    /// given mode.
    pub(crate) fn rechecked(&self, allow_bypass: bool, mode: ServerMode) -> CheckedPool {
        CheckedPool::new(self.pool.clone(), allow_bypass, mode, self.sending.clone())
            .with_set_nulls(self.set_nulls.clone())
    }

    /// The same pool and verdict, sending statements another way.
    pub(crate) fn sending_with(&self, sending: Sending) -> CheckedPool {
        CheckedPool {
            sending,
            ..self.clone()
        }
    }

    /// How statements are sent on this pool's connections.
    pub(crate) fn sending(&self) -> &Sending {
        &self.sending
    }

    /// A connection, unchecked, ready for the pool's statement mode (in
    /// pooler-safe mode, a new connection is warmed first; one that cannot
    /// be is closed).
    pub(crate) async fn get_unchecked(&self) -> Result<Object, Error> {
        let conn = self.pool.get().await?;
        if let Sending::Unnamed(unnamed) = &self.sending {
            if let Err(err) = unnamed.warm(&conn).await {
                unnamed.forget(&conn);
                drop(Object::take(conn));
                return Err(err);
            }
        }
        Ok(conn)
    }

    /// The pool itself, unchecked.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A connection, once the role is accepted, and the server's mode
    /// (never [`ServerMode::Detect`]). The first checkout reads the role
    /// and, when detecting, the mode (two pipelined queries, on the
    /// connection it returns); later ones only look at the stored verdict.
    pub(crate) async fn get(&self) -> Result<(Object, ServerMode), Error> {
        let conn = self.get_unchecked().await?;
        let mode = self.check(&conn).await?.mode;
        Ok((conn, mode))
    }

    /// The accepted role, checking it first if no checkout has yet.
    pub(crate) async fn role(&self) -> Result<&ConnectionRole, Error> {
        match self.gate.accepted.get() {
            Some(accepted) => Ok(&accepted.role),
            None => Ok(&self.check(&self.get_unchecked().await?).await?.role),
        }
    }

    /// The server's mode (never [`ServerMode::Detect`]), checking the pool
    /// first if no checkout has yet.
    pub(crate) async fn mode(&self) -> Result<ServerMode, Error> {
        match self.gate.accepted.get() {
            Some(accepted) => Ok(accepted.mode),
            None => Ok(self.check(&self.get_unchecked().await?).await?.mode),
        }
    }

    async fn check(&self, conn: &Object) -> Result<&Accepted, Error> {
        self.gate
            .accepted
            .get_or_try_init(|| async {
                let client: &tokio_postgres::Client = conn;
                let (role, mode) = tokio::join!(
                    biased;
                    ConnectionRole::query(client),
                    self.gate.mode.resolve(client),
                );
                let (role, mode) = (role?, mode?);
                if mode.is_citus() {
                    tracing::debug!(target: "tenant_model", "Citus: the tenant context is sent with SET LOCAL");
                }
                let Some(escape) = role.escapes().into_iter().next() else {
                    return Ok(Accepted { role, mode });
                };
                if !self.gate.allow_bypass {
                    return Err(Error::UnsafeRole {
                        role: role.name,
                        reason: escape,
                    });
                }
                tracing::warn!(
                    target: "tenant_model::audit",
                    role = %role.name,
                    reason = %escape,
                    "INSECURE: row-level security does not hold for this pool's role; \
                     Db::insecure_allow_rls_bypass() let it through (development only)"
                );
                Ok(Accepted { role, mode })
            })
            .await
    }
}
