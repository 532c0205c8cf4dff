//! Loading related rows in batches: one statement per relation per batch
//! of parents, never one per row.
//!
//! Every statement runs in the caller's transaction (or, on a
//! [`crate::TenantScope`], in one transaction of its own for the whole
//! load), filters by the context's tenant itself (`tenant_id = $1`, and a
//! join on `tenant_id` and the key), binds the parents' keys as one array
//! (`= ANY($2)`), hides soft-deleted related rows unless the relation is
//! asked `with_deleted()`, and has the same text for every batch, so it is
//! prepared once per connection.

// The traits promise `Send` futures, which `async fn` in a trait impl
// cannot name.
#![allow(clippy::manual_async_fn)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;

use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::Row;

use crate::error::Error;
use crate::exec::executor::{traced_rows, Executor};
use crate::exec::statement::Sql;
use crate::exec::tx::Tx;
use crate::model::record::{decode, Record};
use crate::model::tenant_id::TenantId;
use crate::model::{Model, ModelDef, Param, Scope};
use crate::query::Query;
use crate::relation::def::{BelongsTo, HasMany, ManyToMany};
use crate::relation::loaded::{AsRecord, Linked, Loaded};
use crate::sql::model_sql::select_columns;
use crate::sql::sql_text::ident;

/// A key relations can match on: bound as an array, read back from rows,
/// grouped by. Every single-column key type (`Uuid`, `String`, integers,
/// `TenantId`) is one.
pub trait RelationKey:
    ToSql + for<'a> FromSql<'a> + Eq + Hash + Clone + Send + Sync + 'static
{
}
impl<T> RelationKey for T where
    T: ToSql + for<'a> FromSql<'a> + Eq + Hash + Clone + Send + Sync + 'static
{
}

/// What can be loaded for rows of `M`: a relation of `M`
/// (`Team::ORGANIZATION`), a relation with nested ones
/// (`Organization::TEAMS.with(Team::MEMBERS)`), or a tuple of those
/// (`(Team::ORGANIZATION, Team::MEMBERS)`), whose output is the tuple of
/// their outputs.
pub trait Load<M: Model>: Send + Sync {
    /// What one row gets.
    type Output: Send;

    /// Loads for every parent, in order: one statement per relation.
    #[doc(hidden)]
    fn __load<'a>(
        &'a self,
        parents: &'a [&'a Record<M>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<Self::Output>, Error>> + Send + 'a;
}

/// A relation of `M`: its related rows can be loaded and nested into.
pub trait Relation<M: Model>: Load<M> + Copy + 'static {
    /// The related model.
    type Target: Model;
    /// One related row: `Record<Target>`, or [`Linked`] for many-to-many.
    type Item: AsRecord<Self::Target> + Send + Sync;
    /// What a parent holds of items: `Option` (belongs-to) or `Vec`.
    type Many<I: Send>: Send;

    /// The related rows, each with the index of its parent.
    #[doc(hidden)]
    fn __fetch<'a>(
        &'a self,
        parents: &'a [&'a Record<M>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<(usize, Self::Item)>, Error>> + Send + 'a;

    /// The items, by parent.
    #[doc(hidden)]
    fn __group<I: Send>(parents: usize, items: Vec<(usize, I)>) -> Vec<Self::Many<I>>;
}

/// A relation with relations of its target loaded too:
/// `Organization::TEAMS.with(Team::MEMBERS)`. Each related row comes as a
/// [`Loaded`] with its own related rows.
#[derive(Debug, Clone, Copy)]
pub struct Nested<R, N> {
    relation: R,
    nested: N,
}

macro_rules! with_nested {
    ($name:ident<$($p:ident),+> where $bound:ident) => {
        impl<$($p),+> $name<$($p),+> where $bound: Model {
            /// Loads `nested` (a relation of the related model, or a tuple
            /// of them) for the related rows too: one more statement per
            /// nested relation, whatever the number of rows.
            pub fn with<N>(self, nested: N) -> Nested<Self, N> {
                Nested { relation: self, nested }
            }
        }
    };
}
with_nested!(BelongsTo<C, P> where C);
with_nested!(HasMany<P, C> where P);
with_nested!(ManyToMany<L, R, K> where L);

impl<M: Model> Query<M> {
    /// Loads relations with the rows (eager loading): `Team::query()
    /// .with(Team::ORGANIZATION)`, `Organization::query()
    /// .with(Organization::TEAMS.with(Team::MEMBERS))`, or several at once
    /// as a tuple. One statement for the rows, then one per relation (and
    /// per nested relation) for the whole batch, all in one transaction.
    pub fn with<L: Load<M>>(self, load: L) -> WithQuery<M, L> {
        WithQuery { query: self, load }
    }
}

/// A query with relations to load; see [`Query::with`].
pub struct WithQuery<M, L> {
    query: Query<M>,
    load: L,
}

impl<M: Model, L: Load<M>> WithQuery<M, L> {
    /// All matching rows, each with its related rows.
    pub async fn all<E: Executor>(
        self,
        executor: &mut E,
    ) -> Result<Vec<Loaded<Record<M>, L::Output>>, Error> {
        let mut atomic = executor.__atomic().await?;
        let records = self.query.all(atomic.tx()).await?;
        let loaded = attach(records, &self.load, atomic.tx()).await?;
        atomic.finish().await?;
        Ok(loaded)
    }

    /// The first matching row, if any, with its related rows.
    pub async fn first<E: Executor>(
        self,
        executor: &mut E,
    ) -> Result<Option<Loaded<Record<M>, L::Output>>, Error> {
        let query = WithQuery {
            query: self.query.limit(1),
            load: self.load,
        };
        Ok(query.all(executor).await?.into_iter().next())
    }
}

impl<M: Model> Record<M> {
    /// Loads a relation (or a tuple of them, or nested ones) for this row:
    /// `team.load(Team::ORGANIZATION, &mut tx)`.
    pub async fn load<L: Load<M>, E: Executor>(
        &self,
        load: L,
        executor: &mut E,
    ) -> Result<L::Output, Error> {
        let mut atomic = executor.__atomic().await?;
        let mut out = load.__load(&[self], atomic.tx()).await?;
        atomic.finish().await?;
        out.pop()
            .ok_or_else(|| Error::InvalidQuery("a load returned no result".to_owned()))
    }
}

/// Loads relations for rows already loaded: one statement per relation
/// for all of them.
pub async fn load_related<M: Model, L: Load<M>, E: Executor>(
    records: Vec<Record<M>>,
    load: L,
    executor: &mut E,
) -> Result<Vec<Loaded<Record<M>, L::Output>>, Error> {
    let mut atomic = executor.__atomic().await?;
    let loaded = attach(records, &load, atomic.tx()).await?;
    atomic.finish().await?;
    Ok(loaded)
}

async fn attach<M: Model, L: Load<M>>(
    records: Vec<Record<M>>,
    load: &L,
    tx: &mut Tx,
) -> Result<Vec<Loaded<Record<M>, L::Output>>, Error> {
    let parents: Vec<&Record<M>> = records.iter().collect();
    let related = load.__load(&parents, tx).await?;
    drop(parents);
    Ok(records
        .into_iter()
        .zip(related)
        .map(|(row, related)| Loaded { row, related })
        .collect())
}

// ---------------------------------------------------------------------------
// The relations
// ---------------------------------------------------------------------------

macro_rules! load_by_relation {
    ($name:ident<$($p:ident),+> for $m:ident, key $key:ident, output $out:ty) => {
        impl<$($p: Model),+> Load<$m> for $name<$($p),+>
        where
            $key::Key: RelationKey,
        {
            type Output = $out;

            fn __load<'a>(
                &'a self,
                parents: &'a [&'a Record<$m>],
                tx: &'a mut Tx,
            ) -> impl Future<Output = Result<Vec<$out>, Error>> + Send + 'a {
                async move {
                    let items = self.__fetch(parents, tx).await?;
                    Ok(<Self as Relation<$m>>::__group(parents.len(), items))
                }
            }
        }
    };
}
load_by_relation!(BelongsTo<C, P> for C, key P, output Option<Record<P>>);
load_by_relation!(HasMany<P, C> for P, key P, output Vec<Record<C>>);
load_by_relation!(ManyToMany<L, R, K> for L, key L, output Vec<Linked<R, K>>);

impl<C: Model, P: Model> Relation<C> for BelongsTo<C, P>
where
    P::Key: RelationKey,
{
    type Target = P;
    type Item = Record<P>;
    type Many<I: Send> = Option<I>;

    fn __fetch<'a>(
        &'a self,
        parents: &'a [&'a Record<C>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<(usize, Record<P>)>, Error>> + Send + 'a {
        async move {
            let mut wanted: Vec<(usize, P::Key)> = Vec::with_capacity(parents.len());
            for (i, child) in parents.iter().enumerate() {
                if let Some(key) = (self.key)(child.model()) {
                    let key = key.downcast::<P::Key>().map_err(|_| {
                        Error::InvalidQuery(format!(
                            "the `{}` relation holds a key of another type than {}'s",
                            self.def.name,
                            P::DEF.rust_name
                        ))
                    })?;
                    wanted.push((i, *key));
                }
            }
            let keys = distinct(wanted.iter().map(|(_, k)| k));
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let key_column = single_key(P::DEF)?;
            let tenant = tenant_for(tx, &[P::DEF])?;
            let sql = select_sql::<P>(key_column, tenant.is_some(), self.with_deleted, false);
            let rows = run::<P>(tx, &sql, &tenant, &keys).await?;
            let position = position(P::DEF, key_column)?;
            let mut by_key: HashMap<P::Key, &Row> = HashMap::with_capacity(rows.len());
            for row in &rows {
                by_key.insert(decode(row, position)?, row);
            }
            wanted
                .into_iter()
                .filter_map(|(i, key)| by_key.get(&key).map(|row| Ok((i, Record::from_row(row)?))))
                .collect()
        }
    }

    fn __group<I: Send>(parents: usize, items: Vec<(usize, I)>) -> Vec<Option<I>> {
        let mut out: Vec<Option<I>> = (0..parents).map(|_| None).collect();
        for (i, item) in items {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(item);
            }
        }
        out
    }
}

impl<P: Model, C: Model> Relation<P> for HasMany<P, C>
where
    P::Key: RelationKey,
{
    type Target = C;
    type Item = Record<C>;
    type Many<I: Send> = Vec<I>;

    fn __fetch<'a>(
        &'a self,
        parents: &'a [&'a Record<P>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<(usize, Record<C>)>, Error>> + Send + 'a {
        async move {
            let (keys, by_key) = parent_keys(parents, self.key);
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let tenant = tenant_for(tx, &[C::DEF])?;
            let sql = select_sql::<C>(self.def.column, tenant.is_some(), self.with_deleted, true);
            let rows = run::<C>(tx, &sql, &tenant, &keys).await?;
            let position = position(C::DEF, self.def.column)?;
            let mut items = Vec::with_capacity(rows.len());
            for row in &rows {
                let key: Option<P::Key> = decode(row, position)?;
                for &i in key.and_then(|k| by_key.get(&k)).into_iter().flatten() {
                    items.push((i, Record::from_row(row)?));
                }
            }
            Ok(items)
        }
    }

    fn __group<I: Send>(parents: usize, items: Vec<(usize, I)>) -> Vec<Vec<I>> {
        group_many(parents, items)
    }
}

impl<L: Model, R: Model, K: Model> Relation<L> for ManyToMany<L, R, K>
where
    L::Key: RelationKey,
{
    type Target = R;
    type Item = Linked<R, K>;
    type Many<I: Send> = Vec<I>;

    fn __fetch<'a>(
        &'a self,
        parents: &'a [&'a Record<L>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<(usize, Linked<R, K>)>, Error>> + Send + 'a {
        async move {
            let (keys, by_key) = parent_keys(parents, self.key);
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let tenant = tenant_for(tx, &[R::DEF, K::DEF])?;
            let sql = link_sql::<R, K>(
                self.def.column,
                self.target_column(),
                tenant.is_some(),
                self.with_deleted,
            )?;
            let rows = run::<R>(tx, &sql, &tenant, &keys).await?;
            let offset = select_columns(R::DEF).len();
            let position = offset + position(K::DEF, self.def.column)?;
            let mut items = Vec::with_capacity(rows.len());
            for row in &rows {
                let key: Option<L::Key> = decode(row, position)?;
                for &i in key.and_then(|k| by_key.get(&k)).into_iter().flatten() {
                    let linked = Linked {
                        record: Record::from_row(row)?,
                        link: Record::from_row_at(row, offset)?,
                    };
                    items.push((i, linked));
                }
            }
            Ok(items)
        }
    }

    fn __group<I: Send>(parents: usize, items: Vec<(usize, I)>) -> Vec<Vec<I>> {
        group_many(parents, items)
    }
}

impl<M: Model, R: Relation<M>, N: Load<R::Target>> Load<M> for Nested<R, N> {
    type Output = R::Many<Loaded<R::Item, N::Output>>;

    fn __load<'a>(
        &'a self,
        parents: &'a [&'a Record<M>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<Self::Output>, Error>> + Send + 'a {
        async move {
            let items = self.relation.__fetch(parents, tx).await?;
            let records: Vec<&Record<R::Target>> =
                items.iter().map(|(_, item)| item.as_record()).collect();
            let nested = self.nested.__load(&records, tx).await?;
            drop(records);
            let items = items
                .into_iter()
                .zip(nested)
                .map(|((i, row), related)| (i, Loaded { row, related }))
                .collect();
            Ok(R::__group(parents.len(), items))
        }
    }
}

impl<M: Model, A: Load<M>, B: Load<M>> Load<M> for (A, B) {
    type Output = (A::Output, B::Output);

    fn __load<'a>(
        &'a self,
        parents: &'a [&'a Record<M>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<Self::Output>, Error>> + Send + 'a {
        async move {
            let a = self.0.__load(parents, tx).await?;
            let b = self.1.__load(parents, tx).await?;
            Ok(a.into_iter().zip(b).collect())
        }
    }
}

impl<M: Model, A: Load<M>, B: Load<M>, C: Load<M>> Load<M> for (A, B, C) {
    type Output = (A::Output, B::Output, C::Output);

    fn __load<'a>(
        &'a self,
        parents: &'a [&'a Record<M>],
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<Vec<Self::Output>, Error>> + Send + 'a {
        async move {
            let a = self.0.__load(parents, tx).await?;
            let b = self.1.__load(parents, tx).await?;
            let c = self.2.__load(parents, tx).await?;
            Ok(a.into_iter()
                .zip(b)
                .zip(c)
                .map(|((a, b), c)| (a, b, c))
                .collect())
        }
    }
}

// ---------------------------------------------------------------------------
// SQL and helpers
// ---------------------------------------------------------------------------

/// The distinct keys, in first-seen order.
fn distinct<'k, K: RelationKey>(keys: impl Iterator<Item = &'k K>) -> Vec<K> {
    let mut seen = HashSet::new();
    keys.filter(|k| seen.insert(*k)).cloned().collect()
}

/// For each key, the parents (their indexes) holding it.
type ByKey<K> = HashMap<K, Vec<usize>>;

/// The parents' distinct keys, and for each key the parents holding it.
fn parent_keys<P: Model>(
    parents: &[&Record<P>],
    key: fn(&P) -> P::Key,
) -> (Vec<P::Key>, ByKey<P::Key>)
where
    P::Key: RelationKey,
{
    let mut by_key: ByKey<P::Key> = HashMap::with_capacity(parents.len());
    let mut keys = Vec::with_capacity(parents.len());
    for (i, parent) in parents.iter().enumerate() {
        let k = key(parent.model());
        let slot = by_key.entry(k.clone()).or_default();
        if slot.is_empty() {
            keys.push(k);
        }
        slot.push(i);
    }
    (keys, by_key)
}

fn group_many<I>(parents: usize, items: Vec<(usize, I)>) -> Vec<Vec<I>> {
    let mut out: Vec<Vec<I>> = (0..parents).map(|_| Vec::new()).collect();
    for (i, item) in items {
        if let Some(slot) = out.get_mut(i) {
            slot.push(item);
        }
    }
    out
}

/// The tenant the statement filters by: the context's when one of the
/// tables is tenant-scoped (required then: without a tenant a key could
/// match rows of every tenant), none for global tables only.
pub(crate) fn tenant_for(tx: &Tx, defs: &[&ModelDef]) -> Result<Option<TenantId>, Error> {
    let tenant = Tx::tenant_id(tx);
    let scoped = defs.iter().any(|d| d.scope.tenant_column().is_some());
    if !scoped {
        return Ok(None);
    }
    if tenant.is_none() && defs.iter().any(|d| d.scope == Scope::Tenant) {
        return Err(Error::NoTenantContext);
    }
    Ok(tenant)
}

/// The single-column key a relation matches on.
pub(crate) fn single_key(def: &ModelDef) -> Result<&'static str, Error> {
    def.single_key().ok_or_else(|| {
        Error::InvalidQuery(format!(
            "relations need a single-column key; {} has a composite one",
            def.rust_name
        ))
    })
}

/// The position of `column` in `def`'s select list.
pub(crate) fn position(def: &ModelDef, column: &str) -> Result<usize, Error> {
    select_columns(def)
        .iter()
        .position(|c| *c == column)
        .ok_or_else(|| Error::InvalidQuery(format!("{} has no column `{column}`", def.rust_name)))
}

/// `SELECT <T's columns> FROM t WHERE tenant_id = $1 AND column = ANY($2)
/// AND NOT is_deleted [ORDER BY key]`.
fn select_sql<T: Model>(column: &str, scoped: bool, with_deleted: bool, ordered: bool) -> String {
    let sql = T::sql();
    let mut conditions = Vec::new();
    let mut next = 1;
    if let (true, Some(tenant)) = (scoped, T::DEF.scope.tenant_column()) {
        conditions.push(format!("{} = $1", ident(tenant)));
        next = 2;
    }
    conditions.push(format!("{} = ANY(${next})", ident(column)));
    if T::DEF.soft_delete.is_some() && !with_deleted {
        conditions.push("NOT is_deleted".to_owned());
    }
    let order = if ordered {
        let key: Vec<_> = T::DEF.primary_key.iter().map(|c| ident(c)).collect();
        format!(" ORDER BY {}", key.join(", "))
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM {} WHERE {}{order}",
        sql.select_list,
        sql.table,
        conditions.join(" AND ")
    )
}

/// The columns of `def` qualified by `alias`.
fn qualified(def: &ModelDef, alias: &str) -> String {
    select_columns(def)
        .iter()
        .map(|c| format!("{alias}.{}", ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The related rows and their link rows:
/// `SELECT r.*, k.* FROM link k JOIN target r ON r.tenant_id = k.tenant_id
/// AND r.id = k.target_id WHERE k.tenant_id = $1 AND r.tenant_id = $1 AND
/// k.source_id = ANY($2) ...`.
fn link_sql<R: Model, K: Model>(
    source_column: &str,
    target_column: &str,
    scoped: bool,
    with_deleted: bool,
) -> Result<String, Error> {
    let target_key = single_key(R::DEF)?;
    let mut join = Vec::new();
    if let (Scope::Tenant, Scope::Tenant) = (R::DEF.scope, K::DEF.scope) {
        join.push("r.tenant_id = k.tenant_id".to_owned());
    }
    join.push(format!(
        "r.{} = k.{}",
        ident(target_key),
        ident(target_column)
    ));
    let mut conditions = Vec::new();
    let mut next = 1;
    if scoped {
        for (alias, def) in [("k", K::DEF), ("r", R::DEF)] {
            if let Some(tenant) = def.scope.tenant_column() {
                conditions.push(format!("{alias}.{} = $1", ident(tenant)));
                next = 2;
            }
        }
    }
    conditions.push(format!("k.{} = ANY(${next})", ident(source_column)));
    if !with_deleted {
        for (alias, def) in [("r", R::DEF), ("k", K::DEF)] {
            if def.soft_delete.is_some() {
                conditions.push(format!("NOT {alias}.is_deleted"));
            }
        }
    }
    Ok(format!(
        "SELECT {}, {} FROM {} k JOIN {} r ON {} WHERE {} ORDER BY r.{}",
        qualified(R::DEF, "r"),
        qualified(K::DEF, "k"),
        K::sql().table,
        R::sql().table,
        join.join(" AND "),
        conditions.join(" AND "),
        ident(target_key)
    ))
}

/// Runs a load statement with the tenant (when scoped) and the keys.
async fn run<T: Model>(
    tx: &mut Tx,
    sql: &str,
    tenant: &Option<TenantId>,
    keys: &Vec<impl RelationKey>,
) -> Result<Vec<Row>, Error> {
    let mut params: Vec<Param<'_>> = Vec::with_capacity(2);
    if let Some(tenant) = tenant {
        params.push(tenant);
    }
    params.push(keys);
    traced_rows::<T, Tx>(tx, "load", Sql::from(sql), &params).await
}

#[cfg(test)]
mod tests {
    use super::{link_sql, select_sql};
    use crate::prelude::*;

    #[derive(TenantModel)]
    #[tenant_model(soft_delete)]
    struct Member {
        #[tenant_model(primary_key)]
        id: Uuid,
    }

    #[derive(TenantModel)]
    struct Group {
        #[tenant_model(primary_key)]
        id: Uuid,
    }

    #[derive(TenantModel)]
    #[tenant_model(link(Member, Group))]
    struct Seat {
        #[tenant_model(primary_key, references = Member)]
        member_id: Uuid,
        #[tenant_model(primary_key, references = Group)]
        group_id: Uuid,
        role: String,
    }

    #[test]
    fn one_statement_text_per_relation_with_the_keys_as_one_array() {
        assert_eq!(
            select_sql::<Member>("id", true, false, false),
            "SELECT id, tenant_id, created_at, updated_at, is_deleted, deleted_at, deleted_by_id \
             FROM members WHERE tenant_id = $1 AND id = ANY($2) AND NOT is_deleted"
        );
        assert_eq!(
            select_sql::<Seat>("group_id", true, true, true),
            "SELECT member_id, group_id, role, tenant_id, created_at, updated_at FROM seats \
             WHERE tenant_id = $1 AND group_id = ANY($2) ORDER BY member_id, group_id"
        );
        assert_eq!(
            link_sql::<Member, Seat>("group_id", "member_id", true, false).unwrap(),
            "SELECT r.id, r.tenant_id, r.created_at, r.updated_at, r.is_deleted, r.deleted_at, \
             r.deleted_by_id, k.member_id, k.group_id, k.role, k.tenant_id, k.created_at, \
             k.updated_at FROM seats k JOIN members r ON r.tenant_id = k.tenant_id AND \
             r.id = k.member_id WHERE k.tenant_id = $1 AND r.tenant_id = $1 AND \
             k.group_id = ANY($2) AND NOT r.is_deleted ORDER BY r.id"
        );
    }
}
