//! A pool whose login role is checked once, on its first connection:
//! a role that can escape row-level security is refused.

use std::sync::Arc;

use deadpool_postgres::{Object, Pool};
use tokio::sync::OnceCell;

use crate::audit::ConnectionRole;
use crate::error::Error;
use crate::exec::statement_mode::Sending;

/// A pool and the verdict on its role, shared by every clone (and so by
/// every scope made from the same [`crate::Db`]).
#[derive(Clone)]
pub(crate) struct CheckedPool {
    pool: Pool,
    gate: Arc<Gate>,
    /// How statements are sent on this pool's connections.
    sending: Sending,
}

struct Gate {
    /// Set once the role has been read and accepted (or let through by the
    /// opt-out); a refusal is not remembered, so every checkout of a
    /// refused pool fails, and one whose role is fixed recovers.
    accepted: OnceCell<ConnectionRole>,
    /// [`crate::Db::insecure_allow_rls_bypass`]: warn instead of refusing.
    allow_bypass: bool,
}

impl CheckedPool {
    pub(crate) fn new(pool: Pool, allow_bypass: bool, sending: Sending) -> CheckedPool {
        CheckedPool {
            pool,
            gate: Arc::new(Gate {
                accepted: OnceCell::new(),
                allow_bypass,
            }),
            sending,
        }
    }

    /// The same pool, checked afresh, with or without the opt-out.
    pub(crate) fn rechecked(&self, allow_bypass: bool) -> CheckedPool {
        CheckedPool::new(self.pool.clone(), allow_bypass, self.sending.clone())
    }

    /// The same pool and verdict, sending statements another way.
    pub(crate) fn sending_with(&self, sending: Sending) -> CheckedPool {
        CheckedPool {
            pool: self.pool.clone(),
            gate: self.gate.clone(),
            sending,
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

    /// A connection, once the role is accepted. The first checkout reads the
    /// role (one query, on the connection it returns); later ones only
    /// look at the stored verdict.
    pub(crate) async fn get(&self) -> Result<Object, Error> {
        let conn = self.get_unchecked().await?;
        self.check(&conn).await?;
        Ok(conn)
    }

    /// The accepted role, checking it first if no checkout has yet.
    pub(crate) async fn role(&self) -> Result<&ConnectionRole, Error> {
        match self.gate.accepted.get() {
            Some(role) => Ok(role),
            None => self.check(&self.get_unchecked().await?).await,
        }
    }

    async fn check(&self, conn: &Object) -> Result<&ConnectionRole, Error> {
        self.gate
            .accepted
            .get_or_try_init(|| async {
                let client: &tokio_postgres::Client = conn;
                let role = ConnectionRole::query(client).await?;
                let Some(escape) = role.escapes().into_iter().next() else {
                    return Ok(role);
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
                Ok(role)
            })
            .await
    }
}
