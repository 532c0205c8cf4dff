//! `ON DELETE SET NULL` carried out by the library, on Citus.
//!
//! Citus refuses `SET NULL` on a foreign key that includes the
//! distribution column, so the Citus DDL emits such keys without an action
//! ([`crate::Schema::set_null_references`] lists them). Before a hard delete
//! of rows those keys point at, the library sets the referencing columns to
//! NULL itself, in the same transaction; every statement carries
//! `tenant_id = $1` in a tenant scope, so it routes to one shard. On plain
//! PostgreSQL nothing here runs: the foreign key's action does it.

use crate::error::Error;
use crate::exec::statement::Sql;
use crate::exec::tx::{Finish, Tx};
use crate::model::tenant_id::TenantId;
use crate::model::Param;
use crate::schema::SetNullReference;
use crate::sql::sql_text::ident;

/// Before deleting the row of `target` with this single-column key in
/// `tenant`: sets every referencing column holding the key to NULL.
pub(crate) async fn by_key(
    tx: &mut Tx,
    target: &str,
    tenant: TenantId,
    key: &[Param<'_>],
) -> Result<(), Error> {
    for reference in tx.set_nulls_into(target) {
        let sql = key_sql(&reference);
        let mut params: Vec<Param<'_>> = vec![&tenant];
        params.extend_from_slice(key);
        tx.count(Sql::from(&sql), &params, Finish::Open).await?;
    }
    Ok(())
}

/// Before `DELETE FROM <target><where_clause>`: sets every referencing
/// column that points at one of the rows it deletes to NULL. `tenant` is
/// `$1` of `where_clause` when the delete is tenant-scoped (the statement
/// then filters by it too, for routing); `raw` when the clause holds SQL
/// the caller wrote.
pub(crate) async fn by_filter(
    tx: &mut Tx,
    target: &str,
    scoped: bool,
    where_clause: &str,
    params: &[Param<'_>],
    raw: bool,
) -> Result<(), Error> {
    for reference in tx.set_nulls_into(target) {
        let sql = filter_sql(&reference, scoped, where_clause);
        tx.count(Sql::built(&sql, raw), params, Finish::Open)
            .await?;
    }
    Ok(())
}

fn key_sql(reference: &SetNullReference) -> String {
    let column = ident(reference.column);
    format!(
        "UPDATE {} SET {column} = NULL WHERE tenant_id = $1 AND {column} = $2",
        ident(reference.table)
    )
}

fn filter_sql(reference: &SetNullReference, scoped: bool, where_clause: &str) -> String {
    let column = ident(reference.column);
    let routed = if scoped { "tenant_id = $1 AND " } else { "" };
    format!(
        "UPDATE {} SET {column} = NULL WHERE {routed}(tenant_id, {column}) IN \
         (SELECT tenant_id, {} FROM {}{where_clause})",
        ident(reference.table),
        ident(reference.target_column),
        ident(reference.target),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BY: SetNullReference = SetNullReference {
        table: "notes",
        column: "deleted_by_id",
        target: "users",
        target_column: "id",
    };

    #[test]
    fn statements_carry_the_tenant() {
        assert_eq!(
            key_sql(&BY),
            "UPDATE notes SET deleted_by_id = NULL WHERE tenant_id = $1 AND deleted_by_id = $2"
        );
        assert_eq!(
            filter_sql(&BY, true, " WHERE tenant_id = $1 AND (email = $2)"),
            "UPDATE notes SET deleted_by_id = NULL WHERE tenant_id = $1 AND (tenant_id, deleted_by_id) IN \
             (SELECT tenant_id, id FROM users WHERE tenant_id = $1 AND (email = $2))"
        );
        assert_eq!(
            filter_sql(&BY, false, " WHERE (email = $1)"),
            "UPDATE notes SET deleted_by_id = NULL WHERE (tenant_id, deleted_by_id) IN \
             (SELECT tenant_id, id FROM users WHERE (email = $1))"
        );
    }
}
