//! Soft delete followed through relations.
//!
//! Soft-deleting a row also soft-deletes, in the same transaction, the rows
//! that reference it through a relation it declares (`has_many`, or the
//! link rows of a `many_to_many`) when their foreign key says
//! `on_delete = cascade` and their model has `soft_delete`, and so on down.
//! A relation back to a table already on the path is not followed, so a
//! tree within one table (`has_many(children = Self)`) does not cascade:
//! soft-delete its rows yourself.
//!
//! The cascade stamps every row it takes with the parent's own
//! `deleted_at` and `deleted_by_id`; restoring the parent restores exactly
//! the rows with that stamp, deepest first. `deleted_at` comes from
//! `statement_timestamp()` (when the server received the statement), not
//! `now()` (fixed for the whole transaction), so a child deleted on its own
//! earlier, even in the same transaction, carries another stamp and stays
//! deleted when the parent is restored. (Not `clock_timestamp()`: Citus
//! refuses volatile functions in an `UPDATE` of a distributed table.)
//!
//! Rows whose model has no `soft_delete` are left alone: the row they
//! reference still exists (hidden), so their foreign key holds, and a later
//! hard delete of the parent cascades to them in the database. Relations a
//! parent does not declare are not followed, so a soft-delete child whose
//! cascade the parent does not declare is refused by
//! [`Schema::check`](crate::Schema::check)
//! ([`SchemaError::UndeclaredSoftDeleteCascade`](crate::schema::SchemaError)).

use tokio_postgres::types::ToSql;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::error::Error;
use tracing::Instrument;

use crate::exec::executor::{span_of, traced_rows, Executor};
use crate::exec::statement::Sql;
use crate::exec::tx::Tx;
use crate::model::key::Key;
use crate::model::record::{decode, Record};
use crate::model::tenant_id::TenantId;
use crate::model::{Model, ModelDef, OnDelete, Param, Scope};
use crate::relation::def::{RelationDef, RelationKind};
use crate::sql::sql_text::ident;

/// One table the cascade reaches: its rows whose `column` is among the
/// keys `parents` selects (`$2` for the row being deleted).
#[derive(Debug)]
pub(crate) struct Step {
    def: &'static ModelDef,
    column: &'static str,
    parents: String,
}

/// The tables a soft delete of `def` follows through, parents before
/// children. Empty for models outside a tenant (a global row's children
/// belong to every tenant) and without cascading soft-delete children.
pub(crate) fn steps(def: &'static ModelDef, relations: &'static [RelationDef]) -> Vec<Step> {
    let mut out = Vec::new();
    if def.scope == Scope::Tenant && !relations.is_empty() {
        let mut path = vec![def.table];
        follow(relations, "$2".to_owned(), &mut path, &mut out);
    }
    out
}

fn follow(
    relations: &'static [RelationDef],
    parents: String,
    path: &mut Vec<&'static str>,
    out: &mut Vec<Step>,
) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for relation in relations {
        let (child, children) = match relation.kind {
            RelationKind::HasMany => ((relation.target)(), relation.target_relations),
            RelationKind::ManyToMany {
                through,
                through_relations,
                ..
            } => (through(), through_relations),
            RelationKind::BelongsTo => continue,
        };
        let cascades = child
            .foreign_keys
            .iter()
            .any(|fk| fk.column == relation.column && fk.on_delete == OnDelete::Cascade);
        if !cascades
            || child.soft_delete.is_none()
            || child.scope != Scope::Tenant
            || path.contains(&child.table)
            || seen.contains(&(child.table, relation.column))
        {
            continue;
        }
        seen.push((child.table, relation.column));
        out.push(Step {
            def: child,
            column: relation.column,
            parents: parents.clone(),
        });
        if let Some(key) = child.single_key() {
            let keys = format!(
                "SELECT {} FROM {} WHERE tenant_id = $1 AND {} IN ({parents}) AND {STAMPED}",
                ident(key),
                ident(child.table),
                ident(relation.column),
            );
            path.push(child.table);
            follow(children(), keys, path, out);
            path.pop();
        }
    }
}

/// Rows this deletion took: deleted with the parent's exact stamp.
const STAMPED: &str = "is_deleted AND deleted_at = $3 AND deleted_by_id IS NOT DISTINCT FROM $4";

impl Step {
    fn delete_sql(&self) -> String {
        format!(
            "UPDATE {} SET is_deleted = true, deleted_at = $3, deleted_by_id = $4, \
             updated_at = statement_timestamp() \
             WHERE tenant_id = $1 AND {} IN ({}) AND NOT is_deleted",
            ident(self.def.table),
            ident(self.column),
            self.parents
        )
    }

    fn restore_sql(&self) -> String {
        format!(
            "UPDATE {} SET is_deleted = false, deleted_at = NULL, deleted_by_id = NULL, \
             updated_at = statement_timestamp() WHERE tenant_id = $1 AND {} IN ({}) AND {STAMPED}",
            ident(self.def.table),
            ident(self.column),
            self.parents
        )
    }
}

/// Soft-deletes the row and what follows it, in one transaction.
pub(crate) async fn soft_delete<M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    steps: &[Step],
    tenant: TenantId,
    key: M::Key,
    by: Option<Uuid>,
) -> Result<Record<M>, Error> {
    let mut atomic = executor.__atomic().await?;
    let tx = atomic.tx();
    let statements = M::sql().statements(true);
    let mut params: Vec<Param<'_>> = vec![&tenant];
    params.extend(key.params());
    params.push(&by);
    let rows = traced_rows::<M, Tx>(
        tx,
        "soft_delete",
        Sql::fixed(&statements.soft_delete),
        &params,
    )
    .await?;
    let record = match rows.first() {
        Some(row) => Record::<M>::from_row(row)?,
        None => {
            return Err(Error::NotFound {
                table: M::DEF.table,
            })
        }
    };
    let stamp = record.deleted_at();
    let by = record.deleted_by_id();
    for step in steps {
        run(
            tx,
            step,
            &step.delete_sql(),
            "soft_delete",
            &tenant,
            &key,
            &stamp,
            &by,
        )
        .await?;
    }
    atomic.finish().await?;
    Ok(record)
}

/// Restores the row and exactly the rows its soft delete took, deepest
/// first, in one transaction.
pub(crate) async fn restore<M: Model, E: Executor + ?Sized>(
    executor: &mut E,
    steps: &[Step],
    tenant: TenantId,
    key: M::Key,
) -> Result<Record<M>, Error> {
    let mut atomic = executor.__atomic().await?;
    let tx = atomic.tx();
    let statements = M::sql().statements(true);
    let mut params: Vec<Param<'_>> = vec![&tenant];
    params.extend(key.params());
    let stamp_sql = format!(
        "SELECT deleted_at, deleted_by_id FROM {} WHERE {} AND is_deleted FOR UPDATE",
        M::sql().table,
        statements.key_where
    );
    let rows = traced_rows::<M, Tx>(tx, "restore", Sql::from(&stamp_sql), &params).await?;
    let Some(row) = rows.first() else {
        return Err(Error::NotFound {
            table: M::DEF.table,
        });
    };
    let stamp: Option<DateTime<Utc>> = decode(row, 0)?;
    let by: Option<Uuid> = decode(row, 1)?;
    for step in steps.iter().rev() {
        run(
            tx,
            step,
            &step.restore_sql(),
            "restore",
            &tenant,
            &key,
            &stamp,
            &by,
        )
        .await?;
    }
    let rows =
        traced_rows::<M, Tx>(tx, "restore", Sql::fixed(&statements.restore), &params).await?;
    let record = match rows.first() {
        Some(row) => Record::<M>::from_row(row)?,
        None => {
            return Err(Error::NotFound {
                table: M::DEF.table,
            })
        }
    };
    atomic.finish().await?;
    Ok(record)
}

#[allow(clippy::too_many_arguments)]
async fn run<K: Key>(
    tx: &mut Tx,
    step: &Step,
    sql: &str,
    operation: &'static str,
    tenant: &TenantId,
    key: &K,
    stamp: &Option<DateTime<Utc>>,
    by: &Option<Uuid>,
) -> Result<u64, Error> {
    let mut params: Vec<Param<'_>> = vec![tenant];
    params.extend(key.params());
    params.push(stamp as &(dyn ToSql + Sync));
    params.push(by);
    let span = span_of(step.def, operation, Some(*tenant));
    let n = tx
        .__count(Sql::from(sql), &params)
        .instrument(span.clone())
        .await
        .map_err(|e| e.in_model(step.def))?;
    span.record("rows", n);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_matches_the_parents_stamp_only() {
        let step = Step {
            def: crate::model::tenant::Tenant::DEF,
            column: "organization_id",
            parents: "$2".to_owned(),
        };
        assert!(step.restore_sql().ends_with(
            "organization_id IN ($2) AND is_deleted AND deleted_at = $3 AND deleted_by_id IS NOT DISTINCT FROM $4"
        ));
        assert!(step
            .delete_sql()
            .contains("SET is_deleted = true, deleted_at = $3, deleted_by_id = $4"));
    }
}
