//! The SQL text of one model, built once per process from its [`ModelDef`].
//!
//! Every statement exists in two forms: *scoped*, which filters by the
//! context's tenant itself (defence in depth: the query is correct even
//! where RLS is off), used in tenant transactions: `tenant_id = $1` on
//! tenant tables, `id = $1` on `tenants` (inserts there take no tenant
//! parameter: creating tenants is admin work, refused by privileges); and
//! *unscoped*, used on global tables and in the admin scope.

use crate::model::column_type::SqlType;
use crate::model::{ModelDef, Scope, SystemColumn};
use crate::schema::type_sql;
use crate::sql::sql_text::{ident, ident_list};

/// The statements and column layout the runtime uses for one model.
///
/// Built once per process (the derive keeps it in a `static`), so hot paths
/// never format SQL.
#[derive(Debug)]
pub struct ModelSql {
    /// The table, quoted as needed.
    pub table: String,
    /// The select list: the struct's fields in order, then the system
    /// columns the struct does not declare.
    pub select_list: String,
    /// Statements filtering by the tenant context (`tenant_id = $1`, or
    /// `id = $1` on `tenants`; the same as `unscoped` on global tables).
    pub scoped: Statements,
    /// Statements without a tenant filter (global tables, the admin scope).
    pub unscoped: Statements,
    /// Whether [`Statements::insert_many`] can use `unnest` (no array columns).
    pub bulk_unnest: bool,
    system_positions: [Option<usize>; 6],
}

/// The static statements of one model, in one of its two forms.
#[derive(Debug)]
pub struct Statements {
    /// Number of the first key parameter (`$1` unscoped, `$2` scoped).
    pub first_key_param: usize,
    /// `WHERE` clause selecting one row by key (tenant filter included when scoped).
    pub key_where: String,
    /// `INSERT ... VALUES (...)` without `RETURNING` (scoped: tenant_id = $1),
    /// for statements that add to it (`ON CONFLICT ...`).
    pub insert_head: String,
    /// `INSERT ... VALUES (...) RETURNING ...` (scoped: tenant_id = $1).
    pub insert: String,
    /// `INSERT ... SELECT ... FROM unnest($2::type[], ...)` (scoped: tenant_id = $1),
    /// each array of the column's base type (`text[]` for `varchar(n)`, so
    /// the column checks the length).
    pub insert_many: String,
    /// Find a live row by key.
    pub find: String,
    /// Find a row by key, soft-deleted or not.
    pub find_with_deleted: String,
    /// Soft-delete a live row by key; the last parameter is `deleted_by_id`.
    pub soft_delete: String,
    /// Restore a soft-deleted row by key.
    pub restore: String,
    /// Hard-delete a row by key.
    pub delete: String,
}

impl ModelSql {
    /// Builds the SQL for `def`.
    pub fn new(def: &'static ModelDef) -> ModelSql {
        let columns = select_columns(def);
        let mut system_positions = [None; 6];
        for (slot, column) in system_positions.iter_mut().zip(SystemColumn::ALL) {
            *slot = columns.iter().position(|c| *c == column.name());
        }
        let select_list = ident_list(columns.iter().copied());
        let bulk_unnest = def
            .writable_fields()
            .all(|f| matches!(f.sql_type, SqlType::Scalar(_)));
        ModelSql {
            table: ident(def.table).into_owned(),
            scoped: Statements::new(def, &select_list, def.scope.tenant_column()),
            unscoped: Statements::new(def, &select_list, None),
            select_list,
            bulk_unnest,
            system_positions,
        }
    }

    /// The position of a system column in the select list.
    pub fn system_position(&self, column: SystemColumn) -> Option<usize> {
        let index = SystemColumn::ALL.iter().position(|c| *c == column)?;
        self.system_positions[index]
    }

    /// The statements for a transaction that does (`true`) or does not
    /// carry a tenant context.
    pub fn statements(&self, scoped: bool) -> &Statements {
        if scoped {
            &self.scoped
        } else {
            &self.unscoped
        }
    }
}

impl Statements {
    /// The statements of `def`, filtering by `tenant_column = $1` when given.
    fn new(
        def: &'static ModelDef,
        select_list: &str,
        tenant_column: Option<&'static str>,
    ) -> Statements {
        let table = ident(def.table);
        let first_key_param = if tenant_column.is_some() { 2 } else { 1 };
        let tenant_filter = tenant_column
            .map(|c| format!("{} = $1 AND ", ident(c)))
            .unwrap_or_default();
        // Only tenant tables take the tenant as an inserted column.
        let inserts_tenant = tenant_column.is_some() && def.scope == Scope::Tenant;
        let key_where = def
            .primary_key
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ${}", ident(c), first_key_param + i))
            .collect::<Vec<_>>()
            .join(" AND ");
        let key_where = format!("{tenant_filter}{key_where}");
        let live = if def.soft_delete.is_some() {
            " AND NOT is_deleted"
        } else {
            ""
        };

        let writable: Vec<_> = def.writable_fields().collect();
        let tenant_insert = if inserts_tenant {
            vec!["tenant_id"]
        } else {
            Vec::new()
        };
        let insert_columns = ident_list(
            tenant_insert
                .iter()
                .copied()
                .chain(writable.iter().map(|f| f.name)),
        );
        let values = (1..=tenant_insert.len() + writable.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert_head = format!("INSERT INTO {table} ({insert_columns}) VALUES ({values})");
        let insert = format!("{insert_head} RETURNING {select_list}");
        // Arrays of the columns' base types, without a length modifier: a
        // cast to `varchar(n)` would truncate, while the insert's assignment
        // to the column rejects a value that is too long, as a single insert
        // does.
        let arrays = writable
            .iter()
            .enumerate()
            .map(|(i, f)| {
                format!(
                    "${}::{}[]",
                    tenant_insert.len() + i + 1,
                    type_sql(f.sql_type, None)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let insert_many = format!(
            "INSERT INTO {table} ({insert_columns}) SELECT {}* FROM unnest({arrays})",
            if inserts_tenant { "$1::uuid, " } else { "" }
        );
        let next = first_key_param + def.primary_key.len();
        let (soft_delete, restore) = if def.soft_delete.is_some() {
            (
                format!(
                    "UPDATE {table} SET is_deleted = true, deleted_at = statement_timestamp(), deleted_by_id = ${next}, \
                     updated_at = statement_timestamp() \
                     WHERE {key_where} AND NOT is_deleted RETURNING {select_list}"
                ),
                format!(
                    "UPDATE {table} SET is_deleted = false, deleted_at = NULL, deleted_by_id = NULL, \
                     updated_at = statement_timestamp() WHERE {key_where} AND is_deleted RETURNING {select_list}"
                ),
            )
        } else {
            (String::new(), String::new())
        };
        Statements {
            first_key_param,
            insert_head,
            insert,
            insert_many,
            find: format!("SELECT {select_list} FROM {table} WHERE {key_where}{live}"),
            find_with_deleted: format!("SELECT {select_list} FROM {table} WHERE {key_where}"),
            soft_delete,
            restore,
            delete: format!("DELETE FROM {table} WHERE {key_where}"),
            key_where,
        }
    }
}

/// The columns of the select list, in order.
pub(crate) fn select_columns(def: &ModelDef) -> Vec<&'static str> {
    def.fields
        .iter()
        .map(|f| f.name)
        .chain(def.added_system_columns().map(SystemColumn::name))
        .collect()
}
