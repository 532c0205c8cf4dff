//! Schema emission: the DDL for a set of models, row-level security included.
//!
//! ```
//! use tenant_model::prelude::*;
//!
//! let sql = Schema::new().create_sql();
//! assert!(sql.contains("CREATE TABLE tenants ("));
//! assert!(sql.contains("ALTER TABLE tenants FORCE ROW LEVEL SECURITY;"));
//! // Same models, same bytes.
//! assert_eq!(sql, Schema::new().create_sql());
//! ```

mod check;
pub(crate) mod names;
mod order;
mod policy;
pub(crate) mod security;
mod table;
mod target;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_citus;

use crate::model::pg_enum::EnumDef;
use crate::model::tenant::Tenant;
use crate::model::{Model, ModelDef, OnDelete, Scope};
use crate::relation::RelationDef;
use crate::sql::sql_text::{ident, literal};

pub use check::SchemaError;
pub use policy::{Policy, PolicyCommand};
pub use security::{ADMIN_SETTING, TENANT_SETTING};
pub(crate) use table::type_sql;
pub use table::{Constraint, ConstraintKind, Index, Table, TableColumn};
pub use target::Target;

/// The default name of the application role the DDL grants to.
pub const DEFAULT_APP_ROLE: &str = "tenant_model_app";
/// The default name of the admin role the cross-tenant policy applies to.
pub const DEFAULT_ADMIN_ROLE: &str = "tenant_model_admin";

/// A set of models and the roles that use them; emits deterministic DDL.
///
/// The built-in [`Tenant`] root is always included; adding a model also adds
/// every model it references.
///
/// Adding never fails; what cannot be emitted (two models on one table) is
/// reported by [`Schema::check`], and [`Schema::try_create_sql`] checks
/// before emitting.
#[derive(Debug, Clone)]
pub struct Schema {
    models: Vec<&'static ModelDef>,
    /// Models left out because another model already has their table.
    rejected: Vec<&'static ModelDef>,
    /// The declared relations of the models added with [`Schema::model`]
    /// (a model reached only through a reference shows its table, not its
    /// relations), for [`Schema::check`].
    relations: Vec<(&'static ModelDef, &'static [RelationDef])>,
    app_role: String,
    admin_role: String,
    target: Target,
}

/// A foreign key whose `ON DELETE SET NULL` the library carries out itself
/// on [`Target::Citus`], where the database cannot (see
/// [`Schema::set_null_references`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetNullReference {
    /// The referencing table.
    pub table: &'static str,
    /// The referencing column, to be set to NULL.
    pub column: &'static str,
    /// The referenced table (its key is `(tenant_id, <primary key>)`).
    pub target: &'static str,
    /// The referenced table's primary-key column the reference points at.
    pub target_column: &'static str,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// A schema holding only the `tenants` root table.
    pub fn new() -> Schema {
        Schema {
            models: vec![Tenant::DEF],
            rejected: Vec::new(),
            relations: Vec::new(),
            app_role: DEFAULT_APP_ROLE.to_owned(),
            admin_role: DEFAULT_ADMIN_ROLE.to_owned(),
            target: Target::Postgres,
        }
    }

    /// Sets the database the DDL is for (default [`Target::Postgres`]).
    ///
    /// [`Target::Citus`] changes the DDL ([`Schema::create_sql`]), the
    /// policies ([`Schema::policies`], so an audit of a Citus database
    /// passes this schema), and what [`Schema::check`] refuses.
    ///
    /// ```
    /// use tenant_model::prelude::*;
    ///
    /// let sql = Schema::new().target(Target::Citus).create_sql();
    /// assert!(sql.contains("SELECT create_reference_table('tenants');"));
    /// ```
    pub fn target(mut self, target: Target) -> Schema {
        self.target = target;
        self
    }

    /// The database the DDL is for.
    pub fn emits_for(&self) -> Target {
        self.target
    }

    /// Adds model `M` (and, recursively, the models it references).
    pub fn model<M: Model>(mut self) -> Schema {
        self.relations.push((M::DEF, M::relations()));
        self.add_def(M::DEF)
    }

    /// Adds a model by its description (and the models it references).
    ///
    /// A model already in the schema is not added twice. A different model
    /// whose table is already taken is left out and reported by
    /// [`Schema::check`].
    pub fn add_def(mut self, def: &'static ModelDef) -> Schema {
        if let Some(taken) = self.models.iter().find(|m| m.table == def.table) {
            let known = check::same_model(taken, def)
                || self.rejected.iter().any(|r| check::same_model(r, def));
            if !known {
                self.rejected.push(def);
            }
            return self;
        }
        self.models.push(def);
        let targets: Vec<&'static ModelDef> = def
            .foreign_keys
            .iter()
            .map(|fk| (fk.target)())
            .chain(def.soft_delete.iter().filter_map(|s| s.by.map(|by| by())))
            .chain(def.link.iter().flat_map(|l| [(l.left)(), (l.right)()]))
            .collect();
        targets.into_iter().fold(self, Schema::add_def)
    }

    /// Sets the application role the DDL grants to (default `tenant_model_app`).
    pub fn app_role(mut self, name: impl Into<String>) -> Schema {
        self.app_role = name.into();
        self
    }

    /// Sets the admin role the cross-tenant policies apply to (default `tenant_model_admin`).
    pub fn admin_role(mut self, name: impl Into<String>) -> Schema {
        self.admin_role = name.into();
        self
    }

    /// The application role's name.
    pub fn app_role_name(&self) -> &str {
        &self.app_role
    }

    /// The admin role's name.
    pub fn admin_role_name(&self) -> &str {
        &self.admin_role
    }

    /// The models, in the order they were added.
    pub fn models(&self) -> &[&'static ModelDef] {
        &self.models
    }

    /// The tables, in creation order (a table after those it references).
    /// Not checked: see [`Schema::check`].
    pub fn tables(&self) -> Vec<Table> {
        order::order(&self.models)
            .tables
            .into_iter()
            .map(|def| Table::for_target(def, self.target))
            .collect()
    }

    /// The references between tenant models declared `on_delete =
    /// set_null` (including `deleted_by_id` of `soft_delete(by = M)` when
    /// `M` is a tenant model), in table order.
    ///
    /// On [`Target::Citus`] these foreign keys are emitted without the
    /// action: Citus refuses `SET NULL` on a key that includes `tenant_id`.
    /// Whoever hard-deletes rows of `target` must first set `column` to
    /// NULL in `table`'s rows (of the same tenant) that point at them;
    /// otherwise the delete fails on the foreign key (it never leaves a
    /// dangling reference). [`Schema::check`] refuses, for Citus, a
    /// reference here whose target the database also deletes by cascade.
    /// On [`Target::Postgres`] the database does it (`ON DELETE SET NULL
    /// (column)`), and the list is the same.
    ///
    /// ```
    /// use tenant_model::prelude::*;
    /// use tenant_model::schema::SetNullReference;
    ///
    /// #[derive(TenantModel)]
    /// #[tenant_model(soft_delete(by = Member))]
    /// pub struct Member { #[tenant_model(primary_key)] pub id: Uuid }
    ///
    /// let schema = Schema::new().target(Target::Citus).model::<Member>();
    /// assert_eq!(
    ///     schema.set_null_references(),
    ///     [SetNullReference { table: "members", column: "deleted_by_id", target: "members", target_column: "id" }]
    /// );
    /// ```
    pub fn set_null_references(&self) -> Vec<SetNullReference> {
        order::order(&self.models)
            .tables
            .into_iter()
            .filter(|def| def.scope == Scope::Tenant)
            .flat_map(|def| {
                def.references()
                    .filter(|(_, _, on_delete)| *on_delete == OnDelete::SetNull)
                    .filter_map(move |(column, target, _)| {
                        let target = target();
                        (target.scope == Scope::Tenant).then_some(SetNullReference {
                            table: def.table,
                            column,
                            target: target.table,
                            target_column: target.single_key()?,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The row-level security policies the DDL creates, table by table in
    /// creation order (global tables have none).
    pub fn policies(&self) -> Vec<Policy> {
        self.tables()
            .iter()
            .flat_map(|table| security::table_policies(table, &self.admin_role, self.target))
            .collect()
    }

    /// The enums the tables use, in order of first use.
    pub fn enums(&self) -> Vec<&'static EnumDef> {
        let mut enums: Vec<&'static EnumDef> = Vec::new();
        for model in order::order(&self.models).tables {
            for def in model.fields.iter().filter_map(|f| f.sql_type.enum_def()) {
                if !enums.iter().any(|e| e.name == def.name) {
                    enums.push(def);
                }
            }
        }
        enums
    }

    /// Checks that the models can be emitted together: no two models map to
    /// the same table, and every reference points at a single-column key
    /// and never from a global model into a tenant model (the derive already
    /// rejects those two at compile time; hand-written descriptions are
    /// checked here). For [`Target::Citus`], also that Citus can distribute
    /// them: no `set_default` reference between tenant models
    /// ([`SchemaError::CitusSetDefault`]), and no `set_null` one into rows
    /// the database deletes by cascade
    /// ([`SchemaError::CitusSetNullUnderCascade`]).
    ///
    /// # Errors
    ///
    /// The first [`SchemaError`] found, in the order the models were added.
    ///
    /// ```
    /// use tenant_model::prelude::*;
    /// use tenant_model::schema::SchemaError;
    ///
    /// // `tenants` is the built-in root's table.
    /// #[derive(TenantModel)]
    /// #[tenant_model(global)]
    /// pub struct Tenant { #[tenant_model(primary_key)] pub id: Uuid }
    ///
    /// let err = Schema::new().model::<Tenant>().check().unwrap_err();
    /// assert!(matches!(err, SchemaError::DuplicateTable { table: "tenants", .. }));
    /// assert!(Schema::new().check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), SchemaError> {
        match check::check(&self.models, &self.rejected, &self.relations, self.target)
            .into_iter()
            .next()
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// [`Schema::create_sql`] after [`Schema::check`]: the DDL, or why the
    /// models cannot be emitted together.
    ///
    /// # Errors
    ///
    /// As [`Schema::check`].
    pub fn try_create_sql(&self) -> Result<String, SchemaError> {
        self.check()?;
        Ok(self.emit())
    }

    /// The full DDL: roles, the trigger function, enums, then each table
    /// (in foreign-key order) with its keys, indexes, trigger, row-level
    /// security, policies and grants.
    ///
    /// For [`Target::Citus`]: roles, enums, every table without its
    /// foreign keys (keys, indexes, row-level security, policies without
    /// sub-selects, grants; no trigger), then `create_reference_table` for
    /// `tenants` and the global tables, `create_distributed_table` on
    /// `tenant_id` for the tenant tables (colocated with the first, parents
    /// before children), and only then the foreign keys (see the guide's
    /// chapter on Citus).
    ///
    /// Deterministic: the same models give byte-identical SQL, whatever the
    /// order they were added in.
    ///
    /// # Panics
    ///
    /// When [`Schema::check`] fails (two models on one table): emitting
    /// would silently leave one of them out. Use
    /// [`Schema::try_create_sql`] to get the error as a value.
    pub fn create_sql(&self) -> String {
        match self.try_create_sql() {
            Ok(sql) => sql,
            Err(error) => panic!("cannot emit the schema: {error}"),
        }
    }

    fn emit(&self) -> String {
        match self.target {
            Target::Postgres => self.emit_postgres(),
            Target::Citus => self.emit_citus(),
        }
    }

    /// The header, the roles and the enums, which both targets share.
    fn emit_preamble(&self, tables: &[Table], enums: &[&'static EnumDef]) -> String {
        let mut sql = format!(
            "-- Generated by tenant-model {}: {} tables, {} enums.\n\
             -- Row-level security does not apply to superusers or table owners: the\n\
             -- application must connect as (or SET ROLE to) {}, which is neither.\n",
            env!("CARGO_PKG_VERSION"),
            tables.len(),
            enums.len(),
            ident(&self.app_role),
        );
        if self.target == Target::Citus {
            sql += "-- For Citus: run on the coordinator. Tenant tables are distributed on\n\
                    -- tenant_id and colocated; tenants and global tables are reference tables.\n\
                    -- Sessions need citus.propagate_set_commands = 'local' so that\n\
                    -- SET LOCAL app.tenant_id reaches the workers. No triggers: the\n\
                    -- library's statements set updated_at.\n";
        }
        sql += "\n";
        sql += &security::roles_sql(&self.app_role, &self.admin_role);
        if self.target == Target::Postgres {
            sql += "\n";
            sql += security::functions_sql();
        }
        for def in enums {
            let labels: Vec<String> = def.labels.iter().map(|l| literal(l)).collect();
            sql += &format!(
                "\nCREATE TYPE {} AS ENUM ({});\n",
                ident(def.name),
                labels.join(", ")
            );
        }
        sql
    }

    fn emit_postgres(&self) -> String {
        let tables = self.tables();
        let enums = self.enums();
        let mut sql = self.emit_preamble(&tables, &enums);
        let mut deferred = String::new();
        for (i, table) in tables.iter().enumerate() {
            let later: Vec<&str> = tables[i + 1..].iter().map(|t| t.name).collect();
            sql += &format!("\n-- {}\n", table.name);
            sql += &table.create_sql(&later);
            sql += &table.indexes_sql();
            sql += &security::table_security_sql(
                table,
                &self.app_role,
                &self.admin_role,
                Target::Postgres,
            );
            deferred += &table.deferred_foreign_keys_sql(&later);
        }
        if !deferred.is_empty() {
            sql += "\n-- Foreign keys between tables that reference each other\n";
            sql += &deferred;
        }
        sql
    }

    /// Citus: every table first, without foreign keys (with its keys,
    /// indexes, row-level security, policies and grants, which Citus copies
    /// to the shards); then the reference tables; then the tenant tables,
    /// distributed on `tenant_id` and colocated with the first, parents
    /// before children; and only then the foreign keys. A foreign key to
    /// `tenants` made before distributing would turn its table into a Citus
    /// local table, which can then not be distributed.
    fn emit_citus(&self) -> String {
        let tables = self.tables();
        let enums = self.enums();
        let mut sql = self.emit_preamble(&tables, &enums);
        let all: Vec<&str> = tables.iter().map(|t| t.name).collect();
        for table in &tables {
            sql += &format!("\n-- {}\n", table.name);
            sql += &table.create_sql(&all);
            sql += &table.indexes_sql();
            sql += &security::table_security_sql(
                table,
                &self.app_role,
                &self.admin_role,
                Target::Citus,
            );
        }
        sql += "\n-- Reference tables: a copy on every node\n";
        for table in tables.iter().filter(|t| t.scope != Scope::Tenant) {
            sql += &format!(
                "SELECT create_reference_table({});\n",
                literal(&ident(table.name))
            );
        }
        let mut tenant = tables.iter().filter(|t| t.scope == Scope::Tenant);
        if let Some(first) = tenant.next() {
            let first_name = literal(&ident(first.name));
            sql += "\n-- Tenant tables: distributed on tenant_id, colocated\n";
            sql += &format!("SELECT create_distributed_table({first_name}, 'tenant_id');\n");
            for table in tenant {
                sql += &format!(
                    "SELECT create_distributed_table({}, 'tenant_id', colocate_with => {first_name});\n",
                    literal(&ident(table.name))
                );
            }
        }
        let foreign: String = tables
            .iter()
            .map(|t| t.deferred_foreign_keys_sql(&all))
            .collect();
        if !foreign.is_empty() {
            sql += "\n-- Foreign keys, added once every table is distributed\n";
            sql += &foreign;
        }
        sql
    }
}
