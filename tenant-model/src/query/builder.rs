//! The query builder: `User::query().filter(...).order_by(...).limit(n)`.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use futures_util::Stream;
use tokio_postgres::types::ToSql;

use crate::error::Error;
use crate::exec::atomic::Atomic;
use crate::exec::executor::{traced_count, traced_rows, Executor};
use crate::exec::scope::TenantScope;
use crate::exec::statement::Sql;
use crate::exec::tx::{Finish, Tx};
use crate::model::column::Column;
use crate::model::key::Key;
use crate::model::record::Record;
use crate::model::tenant_id::TenantId;
use crate::model::{BoxedParam, Model, Param};
use crate::query::changes::Changes;
use crate::query::filter::{Filter, Params};
use crate::query::operand::Operand;
use crate::sql::sql_text::ident;

/// A sort order on a column of `M` holding `T`: `User::CREATED_AT.desc()`.
pub struct Order<M, T> {
    column: &'static str,
    desc: bool,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Column<M, T> {
    /// Ascending order on this column.
    pub fn asc(self) -> Order<M, T> {
        Order {
            column: self.name(),
            desc: false,
            _types: PhantomData,
        }
    }

    /// Descending order on this column.
    pub fn desc(self) -> Order<M, T> {
        Order {
            column: self.name(),
            desc: true,
            _types: PhantomData,
        }
    }
}

/// Which rows of a soft-delete model a query sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deleted {
    Hide,
    Include,
    Only,
}

/// Keyset pagination: the order `(column, primary key)`, both ascending or
/// both descending, and the cursor to continue after.
struct Keyset {
    column: &'static str,
    desc: bool,
    /// Whether the column may hold NULL.
    nullable: bool,
    cursor: Option<Cursor>,
}

/// The last row of the previous page: its sort value (`None` when NULL)
/// and its key.
struct Cursor {
    value: Option<BoxedParam<'static>>,
    key: Box<dyn Key>,
}

impl Keyset {
    /// The single-column key the order ends with.
    fn key<M: Model>() -> Result<&'static str, Error> {
        M::DEF.single_key().ok_or_else(|| {
            Error::InvalidQuery(format!(
                "keyset pagination needs a single-column key; {} has a composite one",
                M::DEF.rust_name
            ))
        })
    }

    /// `ORDER BY` items: the column, then the key, in one direction.
    fn order<M: Model>(&self) -> Result<String, Error> {
        let dir = if self.desc { " DESC" } else { "" };
        Ok(format!(
            "{}{dir}, {}{dir}",
            ident(self.column),
            ident(Keyset::key::<M>()?)
        ))
    }

    /// The condition for rows after the cursor, in PostgreSQL's order
    /// (NULLs after every value ascending, before every value descending).
    fn condition<'a, M: Model>(&'a self, params: &mut Params<'a>) -> Result<Option<String>, Error> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let key_params = cursor.key.params();
        let [key_param] = key_params.as_slice() else {
            return Err(Error::InvalidQuery(
                "keyset cursor key must be one value".to_owned(),
            ));
        };
        let (column, key) = (ident(self.column), ident(Keyset::key::<M>()?));
        let cmp = if self.desc { "<" } else { ">" };
        Ok(Some(match &cursor.value {
            // After a value: the greater (lesser) values, ties after the key,
            // and, ascending, the NULLs that sort last.
            Some(value) => {
                let value = params.push(&**value);
                let key_value = params.push(*key_param);
                let tuple = format!("({column}, {key}) {cmp} ({value}, {key_value})");
                if self.nullable && !self.desc {
                    format!("({tuple} OR {column} IS NULL)")
                } else {
                    tuple
                }
            }
            // After a NULL: ascending, the NULLs with a greater key;
            // descending, the NULLs with a lesser key and every value.
            None => {
                let key_value = params.push(*key_param);
                if self.desc {
                    format!("({column} IS NOT NULL OR {key} < {key_value})")
                } else {
                    format!("({column} IS NULL AND {key} > {key_value})")
                }
            }
        }))
    }
}

/// A query on model `M`: filters, order, limit/offset or keyset
/// pagination, soft-delete visibility. Run it with [`Query::all`],
/// [`Query::first`], [`Query::count`], [`Query::exists`] or stream it with
/// [`Query::stream`].
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # #[derive(TenantModel, Debug)]
/// # #[tenant_model(soft_delete)]
/// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String, is_active: bool,
/// #   preferences: serde_json::Value }
/// # async fn f(db: tenant_model::Db, acme: TenantId) -> Result<(), tenant_model::Error> {
/// let mut tx = db.tenant(acme).begin().await?;
/// let active = User::query()
///     .filter(User::IS_ACTIVE.eq(true))
///     .filter(User::PREFERENCES.get_text("theme").eq("dark"))
///     .order_by(User::CREATED_AT.desc())
///     .limit(50)
///     .all(&mut tx)
///     .await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct Query<M> {
    filters: Vec<Filter<M>>,
    order: Vec<(&'static str, bool)>,
    limit: Option<i64>,
    offset: Option<i64>,
    deleted: Deleted,
    keyset: Option<Keyset>,
}

impl<M: Model> Default for Query<M> {
    fn default() -> Self {
        Query::new()
    }
}

impl<M: Model> Query<M> {
    /// All live rows of the tenant.
    pub fn new() -> Self {
        Query {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            deleted: Deleted::Hide,
            keyset: None,
        }
    }

    /// Keeps rows matching `filter` (several filters all apply).
    pub fn filter(mut self, filter: Filter<M>) -> Self {
        self.filters.push(filter);
        self
    }

    /// Sorts by a column (several calls sort by each in turn). Not with
    /// [`Query::after`], which sets the order itself.
    pub fn order_by<T>(mut self, order: Order<M, T>) -> Self {
        self.order.push((order.column, order.desc));
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips `n` rows (prefer [`Query::after`] for deep pages).
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Keyset pagination: orders by `order`'s column then by the primary
    /// key (in the same direction), and, given the last row of the previous
    /// page as `(value, key)`, returns only the rows after it. Stable and
    /// index-friendly at any depth, unlike `offset`: paging with any page
    /// size yields every row exactly once, in the order of one query with
    /// `ORDER BY column, key` (as long as rows do not change meanwhile).
    ///
    /// - **NULLs** sort as PostgreSQL sorts them by default: after every
    ///   value ascending, before every value descending. The cursor's value
    ///   is the column's own type, so on an `Option` column a page may end
    ///   on a NULL: pass `None` as the value and paging goes on among the
    ///   NULLs by key, then (descending) on to the values.
    /// - **Ordering** is the keyset's alone: combined with
    ///   [`Query::order_by`] (before or after this call) the query fails
    ///   with [`Error::InvalidQuery`], since rows sorted by anything else
    ///   first would be skipped or repeated across pages. A second `after`
    ///   replaces the first.
    /// - Needs a single-column primary key ([`Error::InvalidQuery`]
    ///   otherwise).
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String, nickname: Option<String> }
    /// # async fn f(mut tx: tenant_model::Tx) -> Result<(), tenant_model::Error> {
    /// let page = User::query().after(User::CREATED_AT.desc(), None).limit(20).all(&mut tx).await?;
    /// if let Some(last) = page.last() {
    ///     let next = User::query()
    ///         .after(User::CREATED_AT.desc(), Some((last.created_at(), last.id)))
    ///         .limit(20)
    ///         .all(&mut tx)
    ///         .await?;
    /// }
    /// // A nullable column: the cursor value is an `Option`.
    /// let page = User::query().after(User::NICKNAME.asc(), None).limit(20).all(&mut tx).await?;
    /// if let Some(last) = page.last() {
    ///     let next = User::query()
    ///         .after(User::NICKNAME.asc(), Some((last.nickname.clone(), last.id)))
    ///         .limit(20)
    ///         .all(&mut tx)
    ///         .await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn after<T>(mut self, order: Order<M, T>, last: Option<(T, M::Key)>) -> Self
    where
        T: Operand + ToSql + Sync + Send + 'static,
        M::Key: 'static,
    {
        self.keyset = Some(Keyset {
            column: order.column,
            desc: order.desc,
            nullable: T::NULLABLE,
            cursor: last.map(|(value, key)| Cursor {
                value: (!value.is_null()).then(|| Box::new(value) as BoxedParam<'static>),
                key: Box::new(key),
            }),
        });
        self
    }

    /// Soft-deleted rows too.
    pub fn with_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// Only soft-deleted rows.
    pub fn only_deleted(mut self) -> Self {
        self.deleted = Deleted::Only;
        self
    }

    /// The `WHERE` clause and its parameters, for a context with `tenant`.
    fn where_clause<'a>(
        &'a self,
        tenant: &'a Option<TenantId>,
    ) -> Result<(String, Vec<Param<'a>>), Error> {
        let mut params = Params::new(1);
        let mut conditions = Vec::new();
        if let (Some(t), Some(column)) = (tenant, M::DEF.scope.tenant_column()) {
            conditions.push(format!("{} = {}", ident(column), params.push(t)));
        }
        if M::DEF.soft_delete.is_some() {
            match self.deleted {
                Deleted::Hide => conditions.push("NOT is_deleted".to_owned()),
                Deleted::Only => conditions.push("is_deleted".to_owned()),
                Deleted::Include => {}
            }
        }
        for filter in &self.filters {
            conditions.push(format!("({})", filter.render(&mut params)?));
        }
        if let Some(keyset) = &self.keyset {
            conditions.extend(keyset.condition::<M>(&mut params)?);
        }
        let sql = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        Ok((sql, params.into_values()))
    }

    /// The full `SELECT` for a context with `tenant`, and its parameters.
    fn select_sql<'a>(
        &'a self,
        tenant: &'a Option<TenantId>,
    ) -> Result<(String, Vec<Param<'a>>), Error> {
        let sql = M::sql();
        let (where_clause, mut params) = self.where_clause(tenant)?;
        let mut text = format!(
            "SELECT {} FROM {}{where_clause}",
            sql.select_list, sql.table
        );
        match (&self.keyset, self.order.is_empty()) {
            (Some(_), false) => {
                return Err(Error::InvalidQuery(
                    "keyset pagination (`after`) sets the order itself; it cannot be combined with `order_by`"
                        .to_owned(),
                ))
            }
            (Some(keyset), true) => text += &format!(" ORDER BY {}", keyset.order::<M>()?),
            (None, false) => {
                let order: Vec<String> = self
                    .order
                    .iter()
                    .map(|(c, desc)| format!("{}{}", ident(c), if *desc { " DESC" } else { "" }))
                    .collect();
                text += &format!(" ORDER BY {}", order.join(", "));
            }
            (None, true) => {}
        }
        // Bound, not formatted: every page of a listing is the same
        // statement, prepared once per connection.
        for (keyword, value) in [("LIMIT", &self.limit), ("OFFSET", &self.offset)] {
            if let Some(n) = value {
                params.push(n);
                text += &format!(" {keyword} ${}", params.len());
            }
        }
        Ok((text, params))
    }

    /// Whether a filter holds a raw fragment: the transaction then resets
    /// the session when it ends.
    fn is_raw(&self) -> bool {
        self.filters.iter().any(Filter::is_raw)
    }

    /// The SQL this query sends in a context with `tenant` (for logs and tests).
    pub fn to_sql(&self, tenant: Option<TenantId>) -> Result<String, Error> {
        Ok(self.select_sql(&tenant)?.0)
    }

    /// All matching rows.
    pub async fn all<E: Executor>(self, mut executor: E) -> Result<Vec<Record<M>>, Error> {
        let tenant = scoped_tenant::<M, E>(&executor);
        let (sql, params) = self.select_sql(&tenant)?;
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(&mut executor, "select", sql, &params).await?;
        rows.iter().map(Record::from_row).collect()
    }

    /// The first matching row, if any (adds `LIMIT 1`).
    pub async fn first<E: Executor>(self, executor: E) -> Result<Option<Record<M>>, Error> {
        Ok(self.limit(1).all(executor).await?.into_iter().next())
    }

    /// The number of matching rows (ignores order, limit and offset).
    pub async fn count<E: Executor>(self, mut executor: E) -> Result<i64, Error> {
        let tenant = scoped_tenant::<M, E>(&executor);
        let (where_clause, params) = self.where_clause(&tenant)?;
        let sql = format!("SELECT count(*) FROM {}{where_clause}", M::sql().table);
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(&mut executor, "count", sql, &params).await?;
        let row = rows.first().ok_or(Error::NotFound {
            table: M::DEF.table,
        })?;
        crate::model::record::decode(row, 0)
    }

    /// Whether any row matches.
    pub async fn exists<E: Executor>(self, mut executor: E) -> Result<bool, Error> {
        let tenant = scoped_tenant::<M, E>(&executor);
        let (where_clause, params) = self.where_clause(&tenant)?;
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{where_clause})",
            M::sql().table
        );
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(&mut executor, "exists", sql, &params).await?;
        let row = rows.first().ok_or(Error::NotFound {
            table: M::DEF.table,
        })?;
        crate::model::record::decode(row, 0)
    }

    /// Updates the given columns of every matching row and returns how many
    /// changed; `updated_at` is bumped by the database. Filtered by the
    /// context's tenant like every statement (and by row-level security);
    /// soft-deleted rows are left alone unless the query says
    /// [`Query::with_deleted`] or [`Query::only_deleted`]. Order, limit and
    /// offset are ignored.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String, is_active: bool }
    /// # async fn f(mut tx: Tx) -> Result<(), Error> {
    /// let n = User::query()
    ///     .filter(User::EMAIL.like("%@old.test"))
    ///     .update(Changes::new().set(User::IS_ACTIVE, false), &mut tx)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update<E: Executor>(
        self,
        changes: Changes<M>,
        mut executor: E,
    ) -> Result<u64, Error> {
        changes.check()?;
        let tenant = scoped_tenant::<M, E>(&executor);
        let (where_clause, mut params) = self.where_clause(&tenant)?;
        let (assignments, values) = changes.assignments(params.len() + 1);
        params.extend(values);
        let sql = format!("UPDATE {} SET {assignments}{where_clause}", M::sql().table);
        let sql = Sql::built(&sql, self.is_raw());
        traced_count::<M, E>(&mut executor, "update", sql, &params).await
    }

    /// Deletes every matching row and returns how many: a soft delete on
    /// models with `soft_delete` (as [`crate::Executor::delete`] by key,
    /// with no `deleted_by`), a hard delete otherwise. Tenant-filtered like
    /// every statement; order, limit and offset are ignored.
    ///
    /// A soft-delete model whose soft delete follows through to children
    /// (`on_delete = cascade` relations) gives [`Error::InvalidQuery`]:
    /// delete those rows by key, which follows the cascade.
    pub async fn delete<E: Executor>(self, mut executor: E) -> Result<u64, Error> {
        if M::DEF.soft_delete.is_none() {
            return self.force_delete(executor).await;
        }
        if !crate::relation::cascade::steps(M::DEF, M::relations()).is_empty() {
            return Err(Error::InvalidQuery(format!(
                "{} soft-deletes its children with it; delete its rows by key",
                M::DEF.rust_name
            )));
        }
        // A soft delete never re-stamps a row that is deleted already.
        let mut query = self;
        match query.deleted {
            Deleted::Only => return Ok(0),
            Deleted::Include => query.deleted = Deleted::Hide,
            Deleted::Hide => {}
        }
        let tenant = scoped_tenant::<M, E>(&executor);
        let (where_clause, params) = query.where_clause(&tenant)?;
        let sql = format!(
            "UPDATE {} SET is_deleted = true, deleted_at = statement_timestamp(), deleted_by_id = NULL, updated_at = statement_timestamp(){where_clause}",
            M::sql().table
        );
        let sql = Sql::built(&sql, query.is_raw());
        traced_count::<M, E>(&mut executor, "soft_delete", sql, &params).await
    }

    /// Deletes every matching row for good (soft-deleted rows only when the
    /// query includes them) and returns how many. Tenant-filtered like every
    /// statement; order, limit and offset are ignored.
    pub async fn force_delete<E: Executor>(self, mut executor: E) -> Result<u64, Error> {
        let tenant = scoped_tenant::<M, E>(&executor);
        let (where_clause, params) = self.where_clause(&tenant)?;
        let sql = format!("DELETE FROM {}{where_clause}", M::sql().table);
        let sql = Sql::built(&sql, self.is_raw());
        traced_count::<M, E>(&mut executor, "delete", sql, &params).await
    }

    /// Streams the matching rows with constant memory: a server-side cursor
    /// in a transaction, fetched `batch` rows at a time.
    ///
    /// On `&mut tx` the cursor lives in that transaction. On a scope
    /// (`&scope`, or `db.tenant(t)` by value) the stream takes a
    /// transaction of its own for the cursor, commits it when the rows are
    /// done and rolls it back when the stream is dropped before: the
    /// connection goes back to the pool clean either way.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # struct Event { #[tenant_model(primary_key)] id: Uuid, kind: String }
    /// # async fn f(mut tx: tenant_model::Tx, db: Db, acme: TenantId) -> Result<(), tenant_model::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut rows = std::pin::pin!(Event::query().stream(&mut tx, 1000));
    /// while let Some(event) = rows.try_next().await? {
    ///     // one row at a time; at most 1000 in memory
    /// }
    /// let all: Vec<_> = Event::query().stream(db.tenant(acme), 1000).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn stream<'t, S: StreamSource<'t>>(
        self,
        source: S,
        batch: u32,
    ) -> impl Stream<Item = Result<Record<M>, Error>> + Send + 't
    where
        M: 't,
    {
        let state = StreamState {
            query: Some(self),
            source: Source::Closed(Box::pin(source.__open())),
            buffer: VecDeque::new(),
            cursor: None,
            batch: batch.max(1),
            done: false,
        };
        futures_util::stream::try_unfold(state, |mut state| async move {
            loop {
                if let Some(row) = state.buffer.pop_front() {
                    return Ok(Some((Record::from_row(&row)?, state)));
                }
                if state.done {
                    let mut atomic = state.source.take().await?;
                    if let Some(cursor) = state.cursor.take() {
                        let close = format!("CLOSE {cursor}");
                        atomic
                            .tx()
                            .count(Sql::from(&close), &[], Finish::Open)
                            .await?;
                    }
                    atomic.finish().await?;
                    return Ok(None);
                }
                state.fetch().await?;
            }
        })
    }
}

/// What a [`Query::stream`] runs on: `&mut Tx` (its cursor lives in that
/// transaction), or a tenant scope by value or reference (a transaction of
/// its own, committed at the end, rolled back if the stream is dropped).
pub trait StreamSource<'t>: stream_sealed::Sealed + Send + 't {
    /// The transaction for the cursor.
    #[doc(hidden)]
    fn __open(self) -> impl Future<Output = Result<Atomic<'t>, Error>> + Send + 't;
}

mod stream_sealed {
    pub trait Sealed {}
    impl Sealed for &mut crate::exec::tx::Tx {}
    impl Sealed for crate::exec::scope::TenantScope {}
    impl Sealed for &crate::exec::scope::TenantScope {}
}

impl<'t> StreamSource<'t> for &'t mut Tx {
    #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
    fn __open(self) -> impl Future<Output = Result<Atomic<'t>, Error>> + Send + 't {
        async move { Ok(Atomic::Borrowed(self)) }
    }
}

impl<'t> StreamSource<'t> for TenantScope {
    #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
    fn __open(self) -> impl Future<Output = Result<Atomic<'t>, Error>> + Send + 't {
        async move { Ok(Atomic::Owned(Box::new(self.begin().await?))) }
    }
}

impl<'t> StreamSource<'t> for &'t TenantScope {
    fn __open(self) -> impl Future<Output = Result<Atomic<'t>, Error>> + Send + 't {
        self.clone().__open()
    }
}

type Opening<'t> = Pin<Box<dyn Future<Output = Result<Atomic<'t>, Error>> + Send + 't>>;

/// The stream's transaction: not yet opened, or open.
enum Source<'t> {
    Closed(Opening<'t>),
    Open(Atomic<'t>),
    Taken,
}

impl<'t> Source<'t> {
    /// The transaction, opened on first use.
    async fn tx(&mut self) -> Result<&mut Tx, Error> {
        if let Source::Closed(opening) = self {
            *self = Source::Open(opening.await?);
        }
        match self {
            Source::Open(atomic) => Ok(atomic.tx()),
            _ => Err(Error::TransactionClosed),
        }
    }

    /// The transaction, to finish it.
    async fn take(&mut self) -> Result<Atomic<'t>, Error> {
        self.tx().await?;
        match std::mem::replace(self, Source::Taken) {
            Source::Open(atomic) => Ok(atomic),
            _ => Err(Error::TransactionClosed),
        }
    }
}

struct StreamState<'t, M> {
    query: Option<Query<M>>,
    source: Source<'t>,
    buffer: VecDeque<tokio_postgres::Row>,
    cursor: Option<String>,
    batch: u32,
    done: bool,
}

impl<M: Model> StreamState<'_, M> {
    /// Declares the cursor on the first call, then fetches the next batch.
    async fn fetch(&mut self) -> Result<(), Error> {
        let tx = self.source.tx().await?;
        if let Some(query) = self.query.take() {
            let tenant = scoped_tenant::<M, Tx>(tx);
            let (sql, params) = query.select_sql(&tenant)?;
            let cursor = format!("tenant_model_cursor_{}", tx.next_cursor_id());
            let declare = format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}");
            tx.count(Sql::built(&declare, query.is_raw()), &params, Finish::Open)
                .await?;
            self.cursor = Some(cursor);
        }
        let cursor = self.cursor.as_deref().ok_or(Error::TransactionClosed)?;
        let fetch = format!("FETCH FORWARD {} FROM {cursor}", self.batch);
        let rows = tx.rows(Sql::from(&fetch), &[], Finish::Open).await?;
        self.done = rows.len() < self.batch as usize;
        self.buffer.extend(rows);
        Ok(())
    }
}

/// The tenant to filter by: the context's, on tenant tables and `tenants`.
fn scoped_tenant<M: Model, E: Executor>(executor: &E) -> Option<TenantId> {
    executor
        .tenant_id()
        .filter(|_| M::DEF.scope.tenant_column().is_some())
}
