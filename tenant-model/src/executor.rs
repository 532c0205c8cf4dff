//! CRUD, written once for every executor: a transaction ([`Tx`]) and the
//! one-statement helpers of a scope ([`TenantScope`]).

use std::future::Future;

use tokio_postgres::Row;
use tracing::Instrument;
use uuid::Uuid;

use crate::changes::Changes;
use crate::column::AnyColumn;
use crate::error::Error;
use crate::key::Key;
use crate::model::{Model, Param, Scope};
use crate::model_sql::Statements;
use crate::record::Record;
use crate::scope::TenantScope;
use crate::sql_text::ident_list;
use crate::tenant_id::TenantId;
use crate::tx::{Finish, Tx};
use crate::upsert_sql::upsert_sql;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::tx::Tx {}
    impl Sealed for crate::scope::TenantScope {}
}

/// Something statements run on: a [`Tx`] (statements share one
/// transaction) or a [`TenantScope`] (each call is its own transaction,
/// one round trip in all).
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
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a;

    /// Runs one statement and returns the number of rows affected.
    #[doc(hidden)]
    fn __count<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a;

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
            let rows = traced_rows::<M, Self>(self, "insert", &statements.insert, &params).await?;
            one::<M>(&rows)
        }
    }

    /// Inserts many rows in one statement over arrays (`INSERT ... SELECT
    /// FROM unnest(...)`) and returns how many were inserted. Models with
    /// array columns are inserted in chunks of multi-row `VALUES` instead.
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
            let sql = M::sql();
            let inserted = if sql.bulk_unnest {
                let arrays = M::insert_arrays(models);
                let values: Vec<Param<'_>> = arrays.iter().map(|a| &**a as Param<'_>).collect();
                let params = with_tenant(&tenant, values);
                self.__count(&statements.insert_many, &params)
                    .instrument(span.clone())
                    .await?
            } else {
                let mut total = 0;
                let width = M::DEF.writable_fields().count() + usize::from(tenant.is_some());
                let mut rest = models;
                while !rest.is_empty() {
                    let (chunk, tail) = rest.split_at(chunk_len(rest.len(), width));
                    rest = tail;
                    let values_sql = multi_row_insert::<M>(chunk.len(), tenant.is_some());
                    let mut params: Vec<Param<'_>> = Vec::with_capacity(chunk.len() * width);
                    for model in chunk {
                        params.extend(with_tenant(&tenant, model.insert_values()));
                    }
                    total += self
                        .__count(&values_sql, &params)
                        .instrument(span.clone())
                        .await?;
                }
                total
            };
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
            let rows = traced_rows::<M, Self>(self, "find", &statements.find, &params).await?;
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
            if changes.is_empty() {
                return Err(Error::InvalidQuery(
                    "an update needs at least one change".to_owned(),
                ));
            }
            if let Some(column) = changes.system_column() {
                return Err(Error::InvalidQuery(format!(
                    "`{column}` is managed by tenant-model and cannot be set in an update"
                )));
            }
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
                    traced_rows::<M, Self>(self, "upsert", &statements.insert, &params).await?;
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

    /// Soft-deletes a live row: `is_deleted`, `deleted_at = now()` and
    /// `deleted_by_id`. Returns the row as stored.
    fn soft_delete<M: Model>(
        &mut self,
        key: M::Key,
        by: Option<Uuid>,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            soft_delete_model::<M>()?;
            let mut params = with_tenant(&tenant, key.params());
            params.push(&by);
            let rows =
                traced_rows::<M, Self>(self, "soft_delete", &statements.soft_delete, &params)
                    .await?;
            one::<M>(&rows)
        }
    }

    /// Restores a soft-deleted row.
    fn restore<M: Model>(
        &mut self,
        key: M::Key,
    ) -> impl Future<Output = Result<Record<M>, Error>> + Send {
        async move {
            let (statements, tenant) = by_key::<M>(self.tenant_id())?;
            soft_delete_model::<M>()?;
            let params = with_tenant(&tenant, key.params());
            let rows =
                traced_rows::<M, Self>(self, "restore", &statements.restore, &params).await?;
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
            let n = traced_count::<M, Self>(self, "delete", &statements.delete, &params).await?;
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

/// How many of `remaining` rows the next multi-row `INSERT` takes: a power
/// of two, so a bulk insert of any size uses at most a dozen distinct
/// statements (each prepared once per connection), and never more than
/// PostgreSQL's 65,535 parameters.
fn chunk_len(remaining: usize, width: usize) -> usize {
    let max = (usize::from(u16::MAX) / width.max(1)).max(1);
    let cap = if max.is_power_of_two() {
        max
    } else {
        max.next_power_of_two() / 2
    };
    let fit = if remaining.is_power_of_two() {
        remaining
    } else {
        remaining.next_power_of_two() / 2
    };
    fit.min(cap).max(1)
}

/// `INSERT ... VALUES (...), (...)` for `n` rows (used for models with
/// array columns, which `unnest` would flatten).
fn multi_row_insert<M: Model>(n: usize, scoped: bool) -> String {
    let columns: Vec<&str> = scoped
        .then_some("tenant_id")
        .into_iter()
        .chain(M::DEF.writable_fields().map(|f| f.name))
        .collect();
    let width = columns.len();
    let rows: Vec<String> = (0..n)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        M::sql().table,
        ident_list(columns),
        rows.join(", ")
    )
}

/// Runs a statement returning rows inside the span of one operation.
pub(crate) async fn traced_rows<M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    operation: &'static str,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<Row>, Error> {
    let span = span::<M>(operation, executor.tenant_id());
    let rows = executor
        .__rows(sql, params)
        .instrument(span.clone())
        .await
        .map_err(|e| e.in_model(M::DEF))?;
    span.record("rows", rows.len());
    Ok(rows)
}

/// Runs a statement returning a row count inside the span of one operation.
pub(crate) async fn traced_count<M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    operation: &'static str,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, Error> {
    let span = span::<M>(operation, executor.tenant_id());
    let n = executor
        .__count(sql, params)
        .instrument(span.clone())
        .await
        .map_err(|e| e.in_model(M::DEF))?;
    span.record("rows", n);
    Ok(n)
}

/// The span of one operation: table, operation, tenant; rows recorded
/// after. Parameter values are never recorded.
pub(crate) fn span<M: Model>(operation: &'static str, tenant: Option<TenantId>) -> tracing::Span {
    tracing::debug_span!(
        "tenant_model.statement",
        table = M::DEF.table,
        operation,
        tenant = tenant.map(tracing::field::display),
        rows = tracing::field::Empty,
    )
}

impl Executor for Tx {
    fn tenant_id(&self) -> Option<TenantId> {
        Tx::tenant_id(self)
    }

    fn __rows<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a {
        self.rows(sql, params, Finish::Open)
    }

    fn __count<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        self.count(sql, params, Finish::Open)
    }
}

impl Executor for TenantScope {
    fn tenant_id(&self) -> Option<TenantId> {
        Some(TenantScope::tenant_id(self))
    }

    #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
    fn __rows<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send + 'a {
        async move { self.begin().await?.rows(sql, params, Finish::Commit).await }
    }

    #[allow(clippy::manual_async_fn)] // the trait promises a `Send` future
    fn __count<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param<'a>],
    ) -> impl Future<Output = Result<u64, Error>> + Send + 'a {
        async move { self.begin().await?.count(sql, params, Finish::Commit).await }
    }
}

#[cfg(test)]
mod tests {
    use super::chunk_len;

    #[test]
    fn bulk_chunks_are_powers_of_two_within_the_parameter_limit() {
        assert_eq!(chunk_len(1, 20), 1);
        assert_eq!(chunk_len(500, 20), 256);
        assert_eq!(chunk_len(244, 20), 128);
        assert_eq!(chunk_len(100_000, 20), 2048); // 65535 / 20 = 3276 -> 2048
        assert!(chunk_len(100_000, 20) * 20 <= 65_535);
        assert_eq!(chunk_len(10, 70_000), 1);
    }
}
