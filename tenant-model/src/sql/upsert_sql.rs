//! The SQL of `upsert`: `INSERT ... ON CONFLICT` on a key the model declares.
//!
//! The conflict target is the primary key or one of the model's unique
//! keys, per tenant on tenant tables, with the key's predicate: on models
//! with `soft_delete` a unique key holds live rows only (see
//! [`ModelDef::unique_predicate`]), and `ON CONFLICT (...) WHERE NOT
//! is_deleted` names exactly that index, so a soft-deleted row never
//! conflicts. A key that does hold deleted rows (the primary key, or an
//! `include_deleted` unique key) is guarded by `DO UPDATE ... WHERE NOT
//! is_deleted`: the deleted row is left alone and the statement returns
//! nothing, which the executor turns into the key's unique violation.

use crate::error::Error;
use crate::model::{ModelDef, SystemColumn};
use crate::sql::model_sql::ModelSql;
use crate::sql::sql_text::{ident, ident_list};

/// `INSERT ... ON CONFLICT (<key>) [WHERE ...] DO UPDATE SET ... [WHERE NOT
/// is_deleted] RETURNING ...` for `def`, with the insert of `statements`
/// (`insert_head`, which is scoped or not) and `conflict` naming the key.
///
/// # Errors
///
/// [`Error::InvalidQuery`] when `conflict` is not the set of columns of the
/// primary key or of a unique key (PostgreSQL would refuse the target with
/// SQLSTATE 42P10).
pub(crate) fn upsert_sql(
    def: &ModelDef,
    sql: &ModelSql,
    insert_head: &str,
    conflict: &[&str],
    scoped: bool,
) -> Result<String, Error> {
    let target = conflict_target(def, conflict, scoped)?;
    let updates: Vec<String> = def
        .writable_fields()
        .filter(|f| !conflict.contains(&f.name) && !f.primary_key)
        .map(|f| format!("{0} = EXCLUDED.{0}", ident(f.name)))
        .collect();
    // The update sets `updated_at` itself (Citus has no trigger for it);
    // with nothing else to change it still locks and returns the row.
    let set = updates
        .into_iter()
        .chain([format!(
            "{} = statement_timestamp()",
            ident(SystemColumn::UpdatedAt.name())
        )])
        .collect::<Vec<_>>()
        .join(", ");
    let live = if def.soft_delete.is_some() {
        format!(
            " WHERE NOT {}.{}",
            sql.table,
            SystemColumn::IsDeleted.name()
        )
    } else {
        String::new()
    };
    Ok(format!(
        "{insert_head} ON CONFLICT {target} DO UPDATE SET {set}{live} RETURNING {}",
        sql.select_list
    ))
}

/// `(tenant_id, <key columns>) [WHERE <predicate>]` for the key whose
/// columns are exactly `conflict` (in any order).
fn conflict_target(def: &ModelDef, conflict: &[&str], scoped: bool) -> Result<String, Error> {
    let is_key = |columns: &[&str]| {
        columns.len() == conflict.len() && columns.iter().all(|c| conflict.contains(c))
    };
    let predicate = if is_key(def.primary_key) {
        None
    } else {
        let unique = def
            .uniques
            .iter()
            .find(|u| is_key(u.columns))
            .ok_or_else(|| {
                Error::InvalidQuery(format!(
                    "upsert on {}: ({}) is neither its primary key nor one of its unique keys",
                    def.rust_name,
                    conflict.join(", ")
                ))
            })?;
        def.unique_predicate(unique)
    };
    let columns = scoped
        .then_some(SystemColumn::TenantId.name())
        .into_iter()
        .chain(conflict.iter().copied());
    Ok(format!(
        "({}){}",
        ident_list(columns),
        predicate.map(|p| format!(" WHERE {p}")).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::upsert_sql;
    use crate::prelude::*;

    #[derive(TenantModel)]
    #[tenant_model(soft_delete, unique(email), unique(number, include_deleted = true))]
    #[tenant_model(unique(login, where = "is_active"))]
    struct Account {
        #[tenant_model(primary_key)]
        id: Uuid,
        email: String,
        number: i64,
        login: String,
        is_active: bool,
    }

    fn target(conflict: &[&str]) -> Result<String, Error> {
        let sql = Account::sql();
        let sql = upsert_sql(Account::DEF, sql, "INSERT", conflict, true)?;
        let start = sql.find("ON CONFLICT").unwrap_or(0);
        let end = sql.find(" RETURNING").unwrap_or(sql.len());
        Ok(sql[start..end].to_owned())
    }

    #[test]
    fn a_live_only_key_is_named_with_its_predicate() {
        assert_eq!(
            target(&["email"]).unwrap(),
            "ON CONFLICT (tenant_id, email) WHERE NOT is_deleted \
             DO UPDATE SET number = EXCLUDED.number, login = EXCLUDED.login, \
             is_active = EXCLUDED.is_active, updated_at = statement_timestamp() \
             WHERE NOT accounts.is_deleted"
        );
        assert!(target(&["login"])
            .unwrap()
            .starts_with("ON CONFLICT (tenant_id, login) WHERE (is_active) AND NOT is_deleted DO"));
    }

    #[test]
    fn keys_that_hold_deleted_rows_never_update_them() {
        for key in [&["id"][..], &["number"]] {
            let sql = target(key).unwrap();
            let conflict = sql.split(" DO UPDATE").next().unwrap_or_default();
            assert!(!conflict.contains("WHERE"), "a full key: {sql}");
            assert!(sql.ends_with(" WHERE NOT accounts.is_deleted"), "{sql}");
        }
    }

    #[test]
    fn columns_that_are_no_key_are_refused() {
        for conflict in [&["login", "email"][..], &["is_active"], &[]] {
            assert!(
                matches!(target(conflict), Err(Error::InvalidQuery(_))),
                "{conflict:?}"
            );
        }
    }
}
