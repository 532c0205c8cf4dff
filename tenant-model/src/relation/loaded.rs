//! What eager loading returns: a row with its related rows ([`Loaded`]),
//! and a row of a many-to-many relation with its link row ([`Linked`]).

use std::ops::Deref;

use crate::model::record::Record;

/// A row with what was loaded for it: `related` is the relation's output
/// (`Option<Record<P>>`, `Vec<Record<C>>`, `Vec<Linked<R, K>>`, or a tuple
/// of them when several relations were asked for, or [`Loaded`] items when
/// nested).
///
/// Derefs to the row, so `org.name` reads the row's field and
/// `org.related` what was loaded.
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # #[derive(TenantModel, Debug)]
/// # #[tenant_model(has_many(teams = Team))]
/// # struct Organization { #[tenant_model(primary_key)] id: Uuid, name: String }
/// # #[derive(TenantModel, Debug)]
/// # struct Team { #[tenant_model(primary_key)] id: Uuid,
/// #   #[tenant_model(references = Organization)] organization_id: Uuid, name: String }
/// # async fn f(mut tx: tenant_model::Tx) -> Result<(), tenant_model::Error> {
/// let orgs = Organization::query().with(Organization::TEAMS).all(&mut tx).await?;
/// for org in &orgs {
///     println!("{}: {} teams", org.name, org.related.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T, R> {
    /// The row (a `Record<M>`, or a [`Linked`] row of a many-to-many
    /// relation).
    pub row: T,
    /// What was loaded for it.
    pub related: R,
}

impl<T, R> Loaded<T, R> {
    /// The row and what was loaded, apart.
    pub fn into_parts(self) -> (T, R) {
        (self.row, self.related)
    }
}

impl<T, R> Deref for Loaded<T, R> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.row
    }
}

/// A row of a many-to-many relation with the link row that joins it: a
/// member of a team with their membership (`member.link.role`).
///
/// Derefs to the related row (`member.full_name`).
#[derive(Debug, Clone, PartialEq)]
pub struct Linked<R, K> {
    /// The related row.
    pub record: Record<R>,
    /// The link row, with its own columns and timestamps.
    pub link: Record<K>,
}

impl<R, K> Deref for Linked<R, K> {
    type Target = Record<R>;

    fn deref(&self) -> &Record<R> {
        &self.record
    }
}

/// The record an item of a relation holds.
pub trait AsRecord<M> {
    /// The record.
    fn as_record(&self) -> &Record<M>;
}

impl<M> AsRecord<M> for Record<M> {
    fn as_record(&self) -> &Record<M> {
        self
    }
}

impl<R, K> AsRecord<R> for Linked<R, K> {
    fn as_record(&self) -> &Record<R> {
        &self.record
    }
}

impl<M, T: AsRecord<M>, X> AsRecord<M> for Loaded<T, X> {
    fn as_record(&self) -> &Record<M> {
        self.row.as_record()
    }
}
