//! One transaction for work of several statements on any executor: the
//! caller's own [`Tx`], or a new one taken from a [`crate::TenantScope`]
//! and committed at the end (eager loading, the soft-delete cascade).

use crate::error::Error;
use crate::exec::tx::Tx;

/// A transaction to run several statements in: borrowed from the caller
/// (who commits it) or owned (committed by [`Atomic::finish`], rolled back
/// when dropped before).
#[doc(hidden)]
pub enum Atomic<'a> {
    /// The caller's transaction.
    Borrowed(&'a mut Tx),
    /// A transaction of its own.
    Owned(Box<Tx>),
}

impl Atomic<'_> {
    /// The transaction.
    pub fn tx(&mut self) -> &mut Tx {
        match self {
            Atomic::Borrowed(tx) => tx,
            Atomic::Owned(tx) => tx,
        }
    }

    /// Commits an owned transaction; a borrowed one stays open.
    pub async fn finish(self) -> Result<(), Error> {
        match self {
            Atomic::Borrowed(_) => Ok(()),
            Atomic::Owned(tx) => tx.commit().await,
        }
    }
}
