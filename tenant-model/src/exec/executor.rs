//! CRUD, written once for every executor: a transaction ([`Tx`]) and the
//! one-statement helpers of a scope ([`TenantScope`]).

use std::future::Future;

use tokio_postgres::Row;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::Error;
use crate::exec::atomic::Atomic;
use crate::exec::scope::TenantScope;
use crate::exec::statement::Sql;
use crate::exec::tx::{Finish, Tx};
use crate::model::column::AnyColumn;
use crate::model::key::Key;
use crate::model::record::Record;
use crate::model::tenant_id::TenantId;
use crate::model::{Model, ModelDef, Param, Scope};
use crate::query::changes::Changes;
use crate::relation::cascade;
use crate::sql::model_sql::Statements;
use crate::sql::sql_text::ident_list;
use crate::sql::upsert_sql::upsert_sql;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::exec::tx::Tx {}
    impl Sealed for crate::exec::scope::TenantScope {}
    impl Sealed for &crate::exec::scope::TenantScope {}
    impl<E: super::Executor + ?Sized> Sealed for &mut E {}
}

/// Something statements run on: a [`Tx`] (statements share one
/// transaction) or a [`TenantScope`] (each call is its own transaction,
/// one round trip in all).
///
/// Implemented for `Tx`, `TenantScope`, `&TenantScope` and `&mut E` of
/// any of them, so queries take a transaction as `&mut tx` and a scope by
/// value or by reference:
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # #[derive(TenantModel, Debug)]
/// # struct Note { #[tenant_model(primary_key)] id: Uuid, title: String }
/// # async fn f(db: Db, acme: TenantId, mut tx: Tx) -> Result<(), Error> {
/// let n = Note::query().count(db.tenant(acme)).await?;
/// let scope = db.tenant(acme);
/// let notes = Note::query().all(&scope).await?;
/// let first = Note::query().first(&mut tx).await?;
/// # Ok(()) }
/// ```
///
/// Every method is tenant-safe: on tenant tables the SQL filters by the
/// context's tenant itself, inserts take `tenant_id` from the context, and
/// row-level security enforces the same in the database.
///
/// The primary key of a tenant table is `(tenant_id, key)`: two tenants
/// may hold the same key. So the methods that pick a row by key (`find`,
/// `get`, `update`, `upsert`, `delete`, `soft_delete`, `restore`,
/// `force_delete`) and inserts need a tenant on tenant tables; in the admin
/// scope they give [`Error::NoTenantContext`] instead of acting on the
/// rows of every tenant that holds the key. Admin work on tenant tables
/// goes through queries, which say which rows they select.
pub trait Executor: sealed::Sealed + Send {
    /// The tenant of the context (`None` in the admin scope).
    fn tenant_id(&self) -> Option<TenantId>;

    /// Runs one statement and returns its rows.
    #[doc(hidden)]
    fn __rows<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a;

    /// Runs one statement and returns the number of rows affected.
    #[doc(hidden)]
    fn __count<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a;

    /// Runs the multi-row `INSERT` chunks of a large bulk insert in one
    /// transaction: this one for a [`Tx`], a new one for a scope.
    #[doc(hidden)]
    fn __insert_chunks<'a, M: Model>(
        &'a mut self,
        models: &'a [M],
        tenant: Option<TenantId>,
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a;

    /// A transaction for work of several statements: this one for a
    /// [`Tx`], a new one (committed by [`Atomic::finish`]) for a scope.
    #[doc(hidden)]
    fn __atomic(&mut self) -> impl Future<Output = Result<Atomic<'_>, Error>> + Send;

    /// Inserts one row and returns it as stored: `tenant_id` from the
    /// context, timestamps and defaults from the database.
    fn insert<M: Model>(
        &mut self,
        model: M,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            let (statements, tenant) = scoped::<M>(self.tenant_id())?;
            let tenant = require_tenant::<M>(tenant)?;
            let values = model.insert_values();
            let params = with_tenant(&tenant, values);
            let rows =
                traced_rows::<M, Self>(self, "insert", Sql::fixed(&statements.insert), &params)
                    .await?;
            one::<M>(&rows)
        }
    }

    /// Inserts many rows and returns how many were inserted. Atomic: either
    /// every row is stored or, on any error, none is.
    ///
    /// Models without array columns go in one statement over arrays
    /// (`INSERT ... SELECT FROM unnest($2::text[], ...)`), whatever the
    /// number of rows. Models with array columns (which `unnest` would
    /// flatten) go as multi-row `VALUES`: one statement when the rows fit
    /// PostgreSQL's 65,535 parameters, otherwise several in one transaction
    /// (on a scope, a transaction of their own).
    ///
    /// Every value is checked by its column exactly as [`Executor::insert`]
    /// checks it: the arrays are cast to the columns' base types (`text[]`,
    /// never `varchar(n)[]`, which would truncate), so a value too long for
    /// `varchar(n)` fails the batch with SQLSTATE 22001 as it fails a single
    /// insert. On a [`Tx`], an error aborts the caller's transaction, so
    /// committing it afterwards stores nothing of the batch (nor anything
    /// else the transaction did).
    fn insert_many<M: Model>(
        &mut self,
        models: &[M],
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        async move {
            if models.is_empty() {
                return Ok(0);
            }
            let (statements, tenant) = scoped::<M>(self.tenant_id())?;
            let tenant = require_tenant::<M>(tenant)?;
            let span = span::<M>("insert_many", self.tenant_id());
            let inserted = async {
                if M::sql().bulk_unnest {
                    let arrays = M::insert_arrays(models);
                    let values: Vec<Param<'_>> = arrays.iter().map(|a| &**a as Param<'_>).collect();
                    let params = with_tenant(&tenant, values);
                    self.__count(Sql::fixed(&statements.insert_many), &params)
                        .instrument(span.clone())
                        .await
                } else if models.len() <= rows_per_insert::<M>(tenant.is_some()) {
                    let (sql, params) = values_insert(models, &tenant);
                    self.__count(Sql::from(&sql), &params)
                        .instrument(span.clone())
                        .await
                } else {
                    self.__insert_chunks(models, tenant)
                        .instrument(span.clone())
                        .await
                }
            }
            .await
            .map_err(|e| e.in_model(M::DEF))?;
            span.record("rows", inserted);
            Ok(inserted)
        }
    }

    /// Finds a live row by primary key; [`Error::NotFound`] if there is none
    /// (or it belongs to another tenant, or is soft-deleted).
    fn find<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            match self.get::<M>(key).await? {
                Some(record) => Ok(record),
                None => Err(Error::NotFound {
                    table: M::DEF.table,
                }),
            }
        }
    }

    /// Like [`Executor::find`], but `None` when there is no such row.
    fn get<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Option<Record<M>>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            let params = with_tenant(&tenant, key.params());
            let rows =
                traced_rows::<M, Self>(self, "find", Sql::fixed(&statements.find), &params).await?;
            rows.first().map(Record::from_row).transpose()
        }
    }

    /// Finds a row by primary key, soft-deleted or not;
    /// [`Error::NotFound`] if there is none (or it belongs to another
    /// tenant).
    fn find_with_deleted<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            match self.get_with_deleted::<M>(key).await? {
                Some(record) => Ok(record),
                None => Err(Error::NotFound {
                    table: M::DEF.table,
                }),
            }
        }
    }

    /// Like [`Executor::find_with_deleted`], but `None` when there is no
    /// such row.
    fn get_with_deleted<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Option<Record<M>>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            let params = with_tenant(&tenant, key.params());
            let rows = traced_rows::<M, Self>(
                self,
                "find",
                Sql::fixed(&statements.find_with_deleted),
                &params,
            )
            .await?;
            rows.first().map(Record::from_row).transpose()
        }
    }

    /// Updates the given columns of a live row; `updated_at` is bumped by
    /// the database. Returns the row as stored.
    fn update<M: Model>(
        &mut self,
        key: M::Key,
        changes: Changes<M>,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            changes.check()?;
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            let key_params = key.params();
            let first = statements.first_key_param + key_params.len();
            let (assignments, values) = changes.assignments(first);
            let live = if M::DEF.soft_delete.is_some() {
                " AND NOT is_deleted"
            } else {
                ""
            };
            let sql = format!(
                "UPDATE {} SET {assignments} WHERE {}{live} RETURNING {}",
                M::sql().table,
                statements.key_where,
                M::sql().select_list
            );
            let mut params = with_tenant(&tenant, key_params);
            params.extend(values);
            let rows = traced_rows::<M, Self>(self, "update", &sql, &params).await?;
            one::<M>(&rows)
        }
    }

    /// Inserts the row, or updates every other writable column of the row
    /// that has the same `conflict` columns: `INSERT ... ON CONFLICT (...)
    /// DO UPDATE`. On tenant tables the key is per tenant.
    ///
    /// `conflict` must be the columns (in any order) of the primary key or
    /// of a unique key the model declares; other columns give
    /// [`Error::InvalidQuery`]. A soft-deleted row is never updated or
    /// returned: on models with `soft_delete` a unique key holds live rows
    /// only, so the upsert inserts a new live row beside a deleted one; a
    /// key that deleted rows still hold (the primary key, or a unique key
    /// with `include_deleted = true`) gives [`Error::UniqueViolation`] on
    /// that key when a deleted row holds it (`restore` or `force_delete` it
    /// first).
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel, Debug)]
    /// # #[tenant_model(soft_delete, unique(email))]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String, name: String }
    /// # async fn f(db: Db, acme: TenantId) -> Result<(), tenant_model::Error> {
    /// let ann = User { id: Uuid::now_v7(), email: "ann@acme.test".into(), name: "Ann".into() };
    /// let stored = db.tenant(acme).upsert(ann, &[User::EMAIL.into()]).await?;
    /// assert!(!stored.is_deleted());
    /// # Ok(()) }
    /// ```
    fn upsert<M: Model>(
        &mut self,
        model: M,
        conflict: &[AnyColumn<M>],
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        let conflict: Vec<&'static str> = conflict.iter().map(|c| c.name()).collect();
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            // Like an insert: a tenant parameter on tenant tables only.
            let tenant = require_tenant::<M>(tenant)?;
            let sql = upsert_sql(
                M::DEF,
                M::sql(),
                &statements.insert_head,
                &conflict,
                tenant.is_some(),
            )?;
            let params = with_tenant(&tenant, model.insert_values());
            let rows = traced_rows::<M, Self>(self, "upsert", &sql, &params).await?;
            if rows.is_empty() {
                // A soft-deleted row holds the key and was left alone: the
                // plain insert reports the key's unique violation. (In a
                // `TenantScope` it is a second transaction; should the
                // deleted row be gone by then, the insert simply succeeds.)
                let rows =
                    traced_rows::<M, Self>(self, "upsert", Sql::fixed(&statements.insert), &params)
                        .await?;
                return one::<M>(&rows);
            }
            one::<M>(&rows)
        }
    }

    /// Deletes a row: a soft delete on models with `soft_delete` (as
    /// [`Executor::soft_delete`] with no `deleted_by`), a hard delete
    /// otherwise. [`Error::NotFound`] if no row matched.
    fn delete<M: Model>(&mut self, key: M::Key) -> impl Future<Output = Result<(), Error>> + Send {
        async move {
            if M::DEF.soft_delete.is_some() {
                self.soft_delete::<M>(key, None).await.map(drop)
            } else {
                self.force_delete::<M>(key).await
            }
        }
    }

    /// Soft-deletes a live row: `is_deleted`, `deleted_at =
    /// statement_timestamp()` and `deleted_by_id`. Returns the row as stored.
    ///
    /// Follows through the relations the model declares: rows of a
    /// `has_many` child (or a `many_to_many` link model) whose foreign key
    /// has `on_delete = cascade` and whose model has `soft_delete` are
    /// soft-deleted too, recursively, in the same transaction (on a
    /// [`TenantScope`], one transaction of its own), stamped with this
    /// row's `deleted_at` and `deleted_by_id`. Children without
    /// `soft_delete` stay: the row they reference still exists.
    fn soft_delete<M: Model>(
        &mut self,
        key: M::Key,
        by: Option<Uuid>,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            soft_delete_model::<M>()?;
            let steps = cascade::steps(M::DEF, M::relations());
            if let (Some(tenant), false) = (tenant, steps.is_empty()) {
                return cascade::soft_delete(self, &steps, tenant, key, by).await;
            }
            let mut params = with_tenant(&tenant, key.params());
            params.push(&by);
            let rows = traced_rows::<M, Self>(
                self,
                "soft_delete",
                Sql::fixed(&statements.soft_delete),
                &params,
            )
            .await?;
            one::<M>(&rows)
        }
    }

    /// Restores a soft-deleted row, and exactly the rows its soft delete
    /// took with it (those stamped with its `deleted_at` and
    /// `deleted_by_id`; not those deleted earlier on their own), in one
    /// transaction.
    fn restore<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            soft_delete_model::<M>()?;
            let steps = cascade::steps(M::DEF, M::relations());
            if let (Some(tenant), false) = (tenant, steps.is_empty()) {
                return cascade::restore(self, &steps, tenant, key).await;
            }
            let params = with_tenant(&tenant, key.params());
            let rows =
                traced_rows::<M, Self>(self, "restore", Sql::fixed(&statements.restore), &params)
                    .await?;
            one::<M>(&rows)
        }
    }

    /// Deletes a row for good, soft-deleted or not.
    fn force_delete<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            let params = with_tenant(&tenant, key.params());
            let n =
                traced_count::<M, Self>(self, "delete", Sql::fixed(&statements.delete), &params)
                    .await?;
            match n {
                0 => Err(Error::NotFound {
                    table: M::DEF.table,
                }),
                _ => Ok(()),
            }
        }
    }
}

/// The statements for `M` in this context, and the tenant parameter when
/// the statements filter by tenant.
fn scoped<M: Model>(
    tenant: Option<TenantId>,
) -> Result<(&'static Statements, Option<TenantId>), Error> {
    let scoped = tenant.filter(|_| M::DEF.scope.tenant_column().is_some());
    Ok((M::sql().statements(scoped.is_some()), scoped))
}

/// The statements and tenant parameter for a statement that picks a row by
/// its key. On tenant tables the primary key is `(tenant_id, key)`: a key
/// is unique only within its tenant, and without a tenant (the admin
/// scope) it could name a row of every tenant, so such statements need one.
fn by_key<M: Model>(
    tenant: Option<TenantId>,
) -> Result<(&'static Statements, Option<TenantId>), Error> {
    if M::DEF.scope == Scope::Tenant && tenant.is_none() {
        return Err(Error::NoTenantContext);
    }
    scoped::<M>(tenant)
}

/// The tenant an insert writes as `tenant_id`: required on tenant tables,
/// none elsewhere (inserts into `tenants` take no tenant parameter).
fn require_tenant<M: Model>(tenant: Option<TenantId>) -> Result<Option<TenantId>, Error> {
    if M::DEF.scope != Scope::Tenant {
        return Ok(None);
    }
    tenant.map(Some).ok_or(Error::NoTenantContext)
}

fn soft_delete_model<M: Model>() -> Result<(), Error> {
    match M::DEF.soft_delete {
        Some(_) => Ok(()),
        None => Err(Error::InvalidQuery(format!(
            "{} has no soft_delete; use force_delete",
            M::DEF.rust_name
        ))),
    }
}

/// `$1 = tenant` in front of the other parameters, when scoped.
fn with_tenant<'a>(tenant: &'a Option<TenantId>, rest: Vec<Param<'a>>) -> Vec<Param<'a>> {
    match tenant {
        Some(t) => std::iter::once(t as Param<'a>).chain(rest).collect(),
        None => rest,
    }
}

/// The one row a by-key statement returns.
fn one<M: Model>(rows: &[Row]) -> Result<Record<M>, Error> {
    match rows.first() {
        Some(row) => Record::from_row(row),
        None => Err(Error::NotFound {
            table: M::DEF.table,
        }),
    }
}

/// How many rows one multi-row `INSERT` of `M` may take: PostgreSQL binds
/// at most 65,535 parameters per statement.
fn rows_per_insert<M: Model>(scoped: bool) -> usize {
    let width = M::DEF.writable_fields().count() + usize::from(scoped);
    max_rows(width)
}

/// Rows of `width` parameters that fit in one statement (at least one).
fn max_rows(width: usize) -> usize {
    (usize::from(u16::MAX) / width.max(1)).max(1)
}

/// `INSERT ... VALUES (...), (...)` for `models`, and its parameters (used
/// for models with array columns, which `unnest` would flatten). The
/// parameters take their types from the columns, so values are checked as
/// a single insert checks them.
fn values_insert<'a, M: Model>(
    models: &'a [M],
    tenant: &'a Option<TenantId>,
) -> (String, Vec<Param<'a>>) {
    let columns: Vec<&str> = tenant
        .map(|_| "tenant_id")
        .into_iter()
        .chain(M::DEF.writable_fields().map(|f| f.name))
        .collect();
    let width = columns.len();
    let rows: Vec<String> = (0..models.len())
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        M::sql().table,
        ident_list(columns),
        rows.join(", ")
    );
    let mut params: Vec<Param<'a>> = Vec::with_capacity(models.len() * width);
    for model in models {
        params.extend(with_tenant(tenant, model.insert_values()));
    }
    (sql, params)
}

/// Inserts `models` as multi-row `INSERT`s of at most [`rows_per_insert`]
/// rows each, in `tx`.
async fn insert_chunks<M: Model>(
    tx: &mut Tx,
    models: &[M],
    tenant: Option<TenantId>,
) -> Result<u64, Error> {
    let mut total = 0;
    for chunk in models.chunks(rows_per_insert::<M>(tenant.is_some())) {
        let (sql, params) = values_insert(chunk, &tenant);
        total += tx.count(Sql::from(&sql), &params, Finish::Open).await?;
    }
    Ok(total)
}

/// Runs a statement returning rows inside the span of one operation.
pub(crate) async fn traced_rows<'a, M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    operation: &'static str,
    sql: impl Into<Sql<'a>>,
    params: &[Param<'_>],
) -> Result<Vec<Row>, Error> {
    let span = span::<M>(operation, executor.tenant_id());
    let rows = executor
        .__rows(sql.into(), params)
        .instrument(span.clone())
        .await
        .map_err(|e| e.in_model(M::DEF))?;
    span.record("rows", rows.len());
    Ok(rows)
}

/// Runs a statement returning a row count inside the span of one operation.
pub(crate) async fn traced_count<'a, M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    operation: &'static str,
    sql: impl Into<Sql<'a>>,
    params: &[Param<'_>],
) -> Result<u64, Error> {
    let span = span::<M>(operation, executor.tenant_id());
    let n = executor
        .__count(sql.into(), params)
        .instrument(span.clone())
        .await
        .map_err(|e| e.in_model(M::DEF))?;
    span.record("rows", n);
    Ok(n)
}

/// The span of one operation: table, operation, tenant; rows recorded
/// after. Parameter values are never recorded.
pub(crate) fn span<M: Model>(operation: &'static str, tenant: Option<TenantId>) -> tracing::Span {
    span_of(M::DEF, operation, tenant)
}

/// [`span`] for a table known by its description only.
pub(crate) fn span_of(
    def: &ModelDef,
    operation: &'static str,
    tenant: Option<TenantId>,
) -> tracing::Span {
    tracing::debug_span!(
        "tenant_model.statement",
        table = def.table,
        operation,
        tenant = tenant.map(tracing::field::display),
        rows = tracing::field::Empty,
    )
}

impl Executor for Tx {
    fn tenant_id(&self) -> Option<TenantId> {
        Tx::tenant_id(self)
    }

    #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
    fn __atomic(&mut self) -> impl Future<Output = Result<Atomic<'_>, Error>> + Send {
        async move { Ok(Atomic::Borrowed(self)) }
    }

    fn __rows<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a {
        self.rows(sql, params, Finish::Open)
    }

    fn __count<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        self.count(sql, params, Finish::Open)
    }

    fn __insert_chunks<'a, M: Model>(
        &'a mut self,
        models: &'a [M],
        tenant: Option<TenantId>,
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        insert_chunks(self, models, tenant)
    }
}

/// A scope's statements: each one its own transaction, pipelined with
/// `BEGIN`, the context and `COMMIT`. Shared by `TenantScope` and
/// `&TenantScope`.
macro_rules! scope_executor {
    ($ty:ty) => {
        impl Executor for $ty {
            fn tenant_id(&self) -> Option<TenantId> {
                Some(TenantScope::tenant_id(self))
            }

            #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
            fn __atomic(&mut self) -> impl Future<Output = Result<Atomic<'_>, Error>> + Send {
                async move { Ok(Atomic::Owned(Box::new(self.begin().await?))) }
            }

            #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
            fn __rows<'a>(
                &'a mut self,
                sql: Sql<'a>,
                params: &'a [Param<'a>],
            ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a {
                async move { self.begin().await?.rows(sql, params, Finish::Commit).await }
            }

            #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
            fn __count<'a>(
                &'a mut self,
                sql: Sql<'a>,
                params: &'a [Param<'a>],
            ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
                async move { self.begin().await?.count(sql, params, Finish::Commit).await }
            }

            #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
            fn __insert_chunks<'a, M: Model>(
                &'a mut self,
                models: &'a [M],
                tenant: Option<TenantId>,
            ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
                async move {
                    let mut tx = self.begin().await?;
                    let inserted = insert_chunks(&mut tx, models, tenant).await?;
                    tx.commit().await?;
                    Ok(inserted)
                }
            }
        }
    };
}

scope_executor!(TenantScope);
scope_executor!(&TenantScope);

/// `&mut tx` and `&mut scope` are executors too, so query methods can take
/// theirs by value.
impl<E: Executor + ?Sized> Executor for &mut E {
    fn tenant_id(&self) -> Option<TenantId> {
        (**self).tenant_id()
    }

    fn __atomic(&mut self) -> impl Future<Output = Result<Atomic<'_>, Error>> + Send {
        (**self).__atomic()
    }

    fn __rows<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a {
        (**self).__rows(sql, params)
    }

    fn __count<'a>(
        &'a mut self,
        sql: Sql<'a>,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        (**self).__count(sql, params)
    }

    fn __insert_chunks<'a, M: Model>(
        &'a mut self,
        models: &'a [M],
        tenant: Option<TenantId>,
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        (**self).__insert_chunks(models, tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::max_rows;

    #[test]
    fn a_multi_row_insert_stays_within_the_parameter_limit() {
        assert_eq!(max_rows(17), 3_855);
        assert!(max_rows(17) * 17 <= 65_535);
        assert!((max_rows(17) + 1) * 17 > 65_535);
        assert_eq!(max_rows(1), 65_535);
        assert_eq!(max_rows(0), 65_535);
        assert_eq!(max_rows(70_000), 1);
    }
}
