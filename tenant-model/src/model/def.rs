//! The model description: what `#[derive(TenantModel)]` produces and what the
//! schema emitter and the executor read.
//!
//! Everything here is plain `'static` data, built at compile time by the
//! derive. The rules that turn it into SQL live in [`crate::schema`] and in
//! [`crate::ModelSql`], so the DDL and the queries cannot disagree.

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::error::Error;
use crate::model::column_type::SqlType;
use crate::sql::model_sql::ModelSql;

/// A parameter value borrowed for one statement.
pub type Param<'a> = &'a (dyn ToSql + Sync);

/// An owned parameter value (used for bulk statements over arrays).
pub type BoxedParam<'a> = Box<dyn ToSql + Sync + Send + 'a>;

/// A Rust type that maps to a table.
///
/// Implemented by `#[derive(TenantModel)]`; you do not implement it by hand.
/// The trait is the bridge between the generated description ([`ModelDef`])
/// and the runtime: it decodes rows and hands out parameter values, while
/// every SQL rule lives in the runtime.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tenant-model model",
    label = "not a model",
    note = "`references = ...`, `soft_delete(by = ...)` and `link(...)` name structs with `#[derive(TenantModel)]`"
)]
pub trait Model: Sized + Send + Sync + 'static {
    /// The static description of the table.
    const DEF: &'static ModelDef;

    /// The primary key's type: the key field's type, or a tuple of them in
    /// key order for a composite key (`(Uuid, Uuid)`).
    type Key: crate::model::key::Key + 'static;

    /// The table name, as a constant of its own (read by other models'
    /// compile-time relation checks without a const cycle).
    #[doc(hidden)]
    const __TABLE: &'static str = "";

    /// The `references = ...` fields, as constants (see [`Model::__TABLE`]).
    #[doc(hidden)]
    const __REFERENCES: &'static [crate::relation::Reference] = &[];

    /// The model's relations: one per `references` field named `<x>_id`
    /// (or with `relation = "..."`), then the declared `has_many(...)` and
    /// `many_to_many(...)`.
    fn relations() -> &'static [crate::relation::RelationDef] {
        &[]
    }

    /// Returns [`Self::DEF`]; usable as a function pointer where a model
    /// refers to another one (or to itself) without a const cycle.
    fn def() -> &'static ModelDef {
        Self::DEF
    }

    /// A query on this model's table: `User::query().filter(...)`.
    fn query() -> crate::query::Query<Self> {
        crate::query::Query::new()
    }

    /// The SQL text for this model, built once per process from [`Self::DEF`].
    fn sql() -> &'static ModelSql;

    /// Decodes the struct's fields from a row whose first columns are the
    /// struct's fields in declaration order (the layout of
    /// [`ModelSql::select_list`]).
    fn from_row(row: &Row) -> Result<Self, Error>;

    /// Like [`Model::from_row`], for a row whose columns from `offset` on
    /// are the struct's fields (a join returning two models' columns).
    fn from_row_at(row: &Row, offset: usize) -> Result<Self, Error> {
        match offset {
            0 => Self::from_row(row),
            _ => Err(Error::InvalidQuery(format!(
                "{} cannot be decoded from the middle of a row",
                Self::DEF.rust_name
            ))),
        }
    }

    /// The values of the writable fields (every field that is not a system
    /// column), in declaration order.
    fn insert_values(&self) -> Vec<Param<'_>>;

    /// The writable fields of many rows as one array per column, in the same
    /// order as [`Model::insert_values`], for `INSERT ... SELECT FROM unnest(...)`.
    fn insert_arrays(rows: &[Self]) -> Vec<BoxedParam<'_>>;

    /// The values of the primary-key fields, in key order.
    fn key_values(&self) -> Vec<Param<'_>>;
}

/// How a table relates to tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every row belongs to one tenant: `tenant_id` column, RLS, composite keys.
    Tenant,
    /// Shared by all tenants (`#[tenant_model(global)]`): no `tenant_id`, no RLS;
    /// the application role may only read it.
    Global,
    /// The built-in `tenants` table: a tenant sees and changes only its own row.
    Root,
}

impl Scope {
    /// The column that says which tenant a row belongs to, which statements
    /// in a tenant context filter by themselves (RLS or not): `tenant_id` on
    /// tenant tables, `id` on `tenants`, none on global tables.
    pub const fn tenant_column(self) -> Option<&'static str> {
        match self {
            Scope::Tenant => Some("tenant_id"),
            Scope::Root => Some("id"),
            Scope::Global => None,
        }
    }
}

/// The static description of one model's table.
#[derive(Debug)]
pub struct ModelDef {
    /// The Rust type's name, for messages.
    pub rust_name: &'static str,
    /// The table name.
    pub table: &'static str,
    /// Tenant-scoped, global or the tenants root.
    pub scope: Scope,
    /// The struct's fields, in declaration order (system columns the struct
    /// declares itself are included, marked with [`ColumnDef::system`]).
    pub fields: &'static [ColumnDef],
    /// Primary-key columns, in key order (without `tenant_id`, which leads
    /// the table's primary key on tenant models).
    pub primary_key: &'static [&'static str],
    /// Unique keys (per tenant on tenant models; live rows only on
    /// soft-delete models unless `include_deleted`).
    pub uniques: &'static [UniqueDef],
    /// Secondary indexes.
    pub indexes: &'static [IndexDef],
    /// Foreign keys declared with `references = Model`.
    pub foreign_keys: &'static [ForeignKeyDef],
    /// Soft delete: `Some` when the model has `soft_delete`.
    pub soft_delete: Option<SoftDeleteDef>,
    /// For link (junction) models: the two models it joins.
    pub link: Option<LinkDef>,
}

/// One column that comes from a struct field.
#[derive(Debug)]
pub struct ColumnDef {
    /// The Rust field name.
    pub field: &'static str,
    /// The column name (the field name unless renamed).
    pub name: &'static str,
    /// The SQL type, from the field's Rust type.
    pub sql_type: SqlType,
    /// Whether NULL is allowed (the field is an `Option<T>`).
    pub nullable: bool,
    /// `max_length = n`: `varchar(n)` instead of `text`.
    pub max_length: Option<u32>,
    /// The column default in DDL.
    pub default: Option<DefaultValue>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Set when the field maps one of the columns the library manages.
    pub system: Option<SystemColumn>,
}

/// A column default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// `default = true`
    Bool(bool),
    /// `default = 42`
    Int(i64),
    /// `default = 1.5` (kept as written)
    Float(&'static str),
    /// `default = "text"`: a quoted SQL literal (also for jsonb and enums).
    Str(&'static str),
    /// `default_sql = "expr"`: an SQL expression written verbatim.
    Expr(&'static str),
}

/// The columns the library adds to tables and manages itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemColumn {
    /// `tenant_id uuid NOT NULL`, from the transaction's tenant context.
    TenantId,
    /// `created_at timestamptz NOT NULL DEFAULT now()`.
    CreatedAt,
    /// `updated_at timestamptz NOT NULL DEFAULT now()`, set by the library's
    /// own updates and, on plain PostgreSQL, by a trigger for any update.
    UpdatedAt,
    /// `is_deleted boolean NOT NULL DEFAULT false` (soft delete).
    IsDeleted,
    /// `deleted_at timestamptz` (soft delete).
    DeletedAt,
    /// `deleted_by_id uuid` (soft delete).
    DeletedById,
}

impl SystemColumn {
    /// All system columns, in the order they are added to a table.
    pub const ALL: [SystemColumn; 6] = [
        SystemColumn::TenantId,
        SystemColumn::CreatedAt,
        SystemColumn::UpdatedAt,
        SystemColumn::IsDeleted,
        SystemColumn::DeletedAt,
        SystemColumn::DeletedById,
    ];

    /// The column name.
    pub const fn name(self) -> &'static str {
        match self {
            SystemColumn::TenantId => "tenant_id",
            SystemColumn::CreatedAt => "created_at",
            SystemColumn::UpdatedAt => "updated_at",
            SystemColumn::IsDeleted => "is_deleted",
            SystemColumn::DeletedAt => "deleted_at",
            SystemColumn::DeletedById => "deleted_by_id",
        }
    }

    /// The system column with this name, if any.
    pub fn from_name(name: &str) -> Option<SystemColumn> {
        SystemColumn::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A unique key. On tenant models the columns are unique per tenant:
/// `tenant_id` is put in front.
///
/// On models with `soft_delete` the key holds live rows only (a partial
/// unique index `WHERE NOT is_deleted`), so a soft-deleted row does not
/// block a new row with the same values; `include_deleted = true` keeps
/// deleted rows in the key. See [`ModelDef::unique_predicate`].
#[derive(Debug)]
pub struct UniqueDef {
    /// Explicit constraint (or index) name; otherwise `<table>_<columns>_key`.
    pub name: Option<&'static str>,
    /// The columns (without tenant_id).
    pub columns: &'static [&'static str],
    /// A partial unique index predicate (`where = "..."`): emitted as a
    /// unique index instead of a constraint.
    pub predicate: Option<&'static str>,
    /// Soft-deleted rows keep holding the key (`include_deleted = true`).
    /// Meaningless on models without `soft_delete`.
    pub include_deleted: bool,
}

/// A secondary index. On tenant models a btree index leads with
/// `tenant_id` unless `tenant_prefix = false` (other methods cannot).
#[derive(Debug)]
pub struct IndexDef {
    /// Explicit index name; otherwise `idx_<table>_<columns>`.
    pub name: Option<&'static str>,
    /// Key columns, in order.
    pub columns: &'static [IndexColumn],
    /// Partial index predicate (`where = "..."`), SQL written verbatim.
    pub predicate: Option<&'static str>,
    /// Index method (`using = "gin"`); btree when `None`.
    pub method: Option<&'static str>,
    /// Put `tenant_id` first (the default on tenant models).
    pub tenant_prefix: bool,
}

/// One key column of an index.
#[derive(Debug)]
pub struct IndexColumn {
    /// The column name.
    pub name: &'static str,
    /// Descending order.
    pub desc: bool,
}

/// `references = Target` on a field.
#[derive(Debug)]
pub struct ForeignKeyDef {
    /// The referencing column.
    pub column: &'static str,
    /// The referenced model (its single-column primary key is the target).
    pub target: fn() -> &'static ModelDef,
    /// What happens when the referenced row is deleted.
    pub on_delete: OnDelete,
}

/// `on_delete = ...` of a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnDelete {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL (column)`: only the referencing column, never tenant_id.
    SetNull,
    /// `SET DEFAULT (column)`.
    SetDefault,
}

/// `soft_delete` on a model.
#[derive(Debug)]
pub struct SoftDeleteDef {
    /// `soft_delete(by = User)`: `deleted_by_id` references this model.
    pub by: Option<fn() -> &'static ModelDef>,
}

/// `link(A, B)`: a junction table for a many-to-many relationship.
#[derive(Debug)]
pub struct LinkDef {
    /// The first model joined.
    pub left: fn() -> &'static ModelDef,
    /// The second model joined.
    pub right: fn() -> &'static ModelDef,
}

impl ModelDef {
    /// Whether rows belong to a tenant (`tenant_id` column and RLS).
    pub fn is_tenant_scoped(&self) -> bool {
        self.scope == Scope::Tenant
    }

    /// The field mapped to `column`, if the struct declares it.
    pub fn field(&self, column: &str) -> Option<&'static ColumnDef> {
        self.fields.iter().find(|f| f.name == column)
    }

    /// The system columns this table has, whether declared by the struct or
    /// added by the library, in their fixed order.
    pub fn system_columns(&self) -> impl Iterator<Item = SystemColumn> + '_ {
        SystemColumn::ALL.into_iter().filter(move |c| match c {
            SystemColumn::TenantId => self.scope == Scope::Tenant,
            SystemColumn::CreatedAt | SystemColumn::UpdatedAt => true,
            SystemColumn::IsDeleted | SystemColumn::DeletedAt | SystemColumn::DeletedById => {
                self.soft_delete.is_some()
            }
        })
    }

    /// The system columns the struct does not declare (added to the table
    /// and to the select list after the struct's fields).
    pub fn added_system_columns(&self) -> impl Iterator<Item = SystemColumn> + '_ {
        self.system_columns()
            .filter(move |c| !self.fields.iter().any(|f| f.system == Some(*c)))
    }

    /// The fields written on insert (not system columns), in order.
    pub fn writable_fields(&self) -> impl Iterator<Item = &'static ColumnDef> {
        self.fields.iter().filter(|f| f.system.is_none())
    }

    /// The predicate of `unique`'s index, `None` for a key on every row:
    /// its own `where = "..."`, and on models with `soft_delete` also
    /// `NOT is_deleted` (unless the key is `include_deleted`), so that
    /// soft-deleted rows hold no unique key.
    ///
    /// The schema emits the key with this predicate and `upsert` names it
    /// in `ON CONFLICT`, so the two cannot disagree.
    ///
    /// ```
    /// use tenant_model::prelude::*;
    ///
    /// #[derive(TenantModel)]
    /// #[tenant_model(soft_delete, unique(email), unique(number, include_deleted = true))]
    /// struct Account {
    ///     #[tenant_model(primary_key)]
    ///     id: Uuid,
    ///     email: String,
    ///     number: i64,
    /// }
    ///
    /// let def = Account::DEF;
    /// assert_eq!(def.unique_predicate(&def.uniques[0]).as_deref(), Some("NOT is_deleted"));
    /// assert_eq!(def.unique_predicate(&def.uniques[1]), None);
    /// ```
    pub fn unique_predicate(&self, unique: &UniqueDef) -> Option<String> {
        let live_only = self.soft_delete.is_some() && !unique.include_deleted;
        let live = SystemColumn::IsDeleted.name();
        match (unique.predicate, live_only) {
            (None, false) => None,
            (Some(own), false) => Some(own.to_owned()),
            (None, true) => Some(format!("NOT {live}")),
            (Some(own), true) => Some(format!("({own}) AND NOT {live}")),
        }
    }

    /// Every foreign key of the table as `(column, target, on_delete)`: the
    /// declared ones (`references = M`), then `deleted_by_id` when the model
    /// has `soft_delete(by = M)` (set to NULL when that row goes).
    pub fn references(
        &self,
    ) -> impl Iterator<Item = (&'static str, fn() -> &'static ModelDef, OnDelete)> + '_ {
        let deleted_by = self
            .soft_delete
            .as_ref()
            .and_then(|s| s.by)
            .map(|by| (SystemColumn::DeletedById.name(), by, OnDelete::SetNull));
        self.foreign_keys
            .iter()
            .map(|fk| (fk.column, fk.target, fk.on_delete))
            .chain(deleted_by)
    }

    /// The single primary-key column, when the key has one column.
    pub fn single_key(&self) -> Option<&'static str> {
        match self.primary_key {
            [one] => Some(one),
            _ => None,
        }
    }
}
