//! The query builder: `User::query().filter(...).order_by(...).limit(n)`.

use std::collections::VecDeque;
use std::marker::PhantomData;

use futures_util::Stream;

use crate::column::Column;
use crate::error::Error;
use crate::executor::{traced_rows, Executor};
use crate::filter::{Filter, Params};
use crate::key::Key;
use crate::model::{BoxedParam, Model, Param, Scope};
use crate::operand::Operand;
use crate::record::Record;
use crate::sql_text::ident;
use crate::statement::Sql;
use crate::tenant_id::TenantId;
use crate::tx::{Finish, Tx};

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

/// A keyset cursor: rows after `(value, key)` in `(column, primary key)` order.
struct After {
    column: &'static str,
    desc: bool,
    value: BoxedParam<'static>,
    key: Box<dyn Key>,
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
    after: Option<After>,
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
            after: None,
        }
    }

    /// Keeps rows matching `filter` (several filters all apply).
    pub fn filter(mut self, filter: Filter<M>) -> Self {
        self.filters.push(filter);
        self
    }

    /// Sorts by a column (several calls sort by each in turn).
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
    /// key, and, given the last row of the previous page as `(value, key)`,
    /// returns only the rows after it. Stable and index-friendly at any
    /// depth, unlike `offset`. Needs a single-column primary key.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String }
    /// # async fn f(mut tx: tenant_model::Tx) -> Result<(), tenant_model::Error> {
    /// let page = User::query().after(User::CREATED_AT.desc(), None).limit(20).all(&mut tx).await?;
    /// if let Some(last) = page.last() {
    ///     let next = User::query()
    ///         .after(User::CREATED_AT.desc(), Some((last.created_at(), last.id)))
    ///         .limit(20)
    ///         .all(&mut tx)
    ///         .await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn after<T: Operand>(mut self, order: Order<M, T>, last: Option<(T::Value, M::Key)>) -> Self
    where
        M::Key: 'static,
    {
        self.order.push((order.column, order.desc));
        if let Some(key) = M::DEF.single_key() {
            self.order.push((key, order.desc));
        }
        self.after = last.map(|(value, key)| After {
            column: order.column,
            desc: order.desc,
            value: Box::new(value),
            key: Box::new(key),
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
        if let (Some(t), Scope::Tenant) = (tenant, M::DEF.scope) {
            conditions.push(format!("tenant_id = {}", params.push(t)));
        }
        if M::DEF.soft_delete.is_some() {
            match self.deleted {
                Deleted::Hide => conditions.push("NOT is_deleted".to_owned()),
                Deleted::Only => conditions.push("is_deleted".to_owned()),
                Deleted::Include => {}
            }
        }
        for filter in &self.filters {
            conditions.push(format!("({})", filter.render(&mut params)));
        }
        if let Some(after) = &self.after {
            let key = M::DEF.single_key().ok_or_else(|| {
                Error::InvalidQuery(format!(
                    "keyset pagination needs a single-column key; {} has a composite one",
                    M::DEF.rust_name
                ))
            })?;
            let key_params = after.key.params();
            let [key_param] = key_params.as_slice() else {
                return Err(Error::InvalidQuery(
                    "keyset cursor key must be one value".to_owned(),
                ));
            };
            let value = params.push(&*after.value);
            let key_value = params.push(*key_param);
            conditions.push(format!(
                "({}, {}) {} ({value}, {key_value})",
                ident(after.column),
                ident(key),
                if after.desc { "<" } else { ">" }
            ));
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
        if !self.order.is_empty() {
            let order: Vec<String> = self
                .order
                .iter()
                .map(|(c, desc)| format!("{}{}", ident(c), if *desc { " DESC" } else { "" }))
                .collect();
            text += &format!(" ORDER BY {}", order.join(", "));
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
    pub async fn all<E: Executor>(self, executor: &mut E) -> Result<Vec<Record<M>>, Error> {
        let tenant = scoped_tenant::<M, E>(executor);
        let (sql, params) = self.select_sql(&tenant)?;
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(executor, "select", sql, &params).await?;
        rows.iter().map(Record::from_row).collect()
    }

    /// The first matching row, if any (adds `LIMIT 1`).
    pub async fn first<E: Executor>(self, executor: &mut E) -> Result<Option<Record<M>>, Error> {
        Ok(self.limit(1).all(executor).await?.into_iter().next())
    }

    /// The number of matching rows (ignores order, limit and offset).
    pub async fn count<E: Executor>(self, executor: &mut E) -> Result<i64, Error> {
        let tenant = scoped_tenant::<M, E>(executor);
        let (where_clause, params) = self.where_clause(&tenant)?;
        let sql = format!("SELECT count(*) FROM {}{where_clause}", M::sql().table);
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(executor, "count", sql, &params).await?;
        let row = rows.first().ok_or(Error::NotFound {
            table: M::DEF.table,
        })?;
        crate::record::decode(row, 0)
    }

    /// Whether any row matches.
    pub async fn exists<E: Executor>(self, executor: &mut E) -> Result<bool, Error> {
        let tenant = scoped_tenant::<M, E>(executor);
        let (where_clause, params) = self.where_clause(&tenant)?;
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{where_clause})",
            M::sql().table
        );
        let sql = Sql::built(&sql, self.is_raw());
        let rows = traced_rows::<M, E>(executor, "exists", sql, &params).await?;
        let row = rows.first().ok_or(Error::NotFound {
            table: M::DEF.table,
        })?;
        crate::record::decode(row, 0)
    }

    /// Streams the matching rows with constant memory: a server-side cursor
    /// in the transaction, fetched `batch` rows at a time.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # struct Event { #[tenant_model(primary_key)] id: Uuid, kind: String }
    /// # async fn f(mut tx: tenant_model::Tx) -> Result<(), tenant_model::Error> {
    /// use futures_util::TryStreamExt;
    /// let mut rows = std::pin::pin!(Event::query().stream(&mut tx, 1000));
    /// while let Some(event) = rows.try_next().await? {
    ///     // one row at a time; at most 1000 in memory
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(
        self,
        tx: &mut Tx,
        batch: u32,
    ) -> impl Stream<Item = Result<Record<M>, Error>> + Send + '_ {
        let state = StreamState {
            query: Some(self),
            tx,
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
                    if let Some(cursor) = state.cursor.take() {
                        let close = format!("CLOSE {cursor}");
                        state.tx.count(Sql::from(&close), &[], Finish::Open).await?;
                    }
                    return Ok(None);
                }
                state.fetch().await?;
            }
        })
    }
}

struct StreamState<'t, M> {
    query: Option<Query<M>>,
    tx: &'t mut Tx,
    buffer: VecDeque<tokio_postgres::Row>,
    cursor: Option<String>,
    batch: u32,
    done: bool,
}

impl<M: Model> StreamState<'_, M> {
    /// Declares the cursor on the first call, then fetches the next batch.
    async fn fetch(&mut self) -> Result<(), Error> {
        if let Some(query) = self.query.take() {
            let tenant = scoped_tenant::<M, Tx>(self.tx);
            let (sql, params) = query.select_sql(&tenant)?;
            let cursor = format!("tenant_model_cursor_{}", self.tx.next_cursor_id());
            let declare = format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}");
            self.tx
                .count(Sql::built(&declare, query.is_raw()), &params, Finish::Open)
                .await?;
            self.cursor = Some(cursor);
        }
        let cursor = self.cursor.as_deref().ok_or(Error::TransactionClosed)?;
        let fetch = format!("FETCH FORWARD {} FROM {cursor}", self.batch);
        let rows = self.tx.rows(Sql::from(&fetch), &[], Finish::Open).await?;
        self.done = rows.len() < self.batch as usize;
        self.buffer.extend(rows);
        Ok(())
    }
}

/// The tenant to filter by: the context's, on tenant tables.
fn scoped_tenant<M: Model, E: Executor>(executor: &E) -> Option<TenantId> {
    executor
        .tenant_id()
        .filter(|_| M::DEF.scope == Scope::Tenant)
}
