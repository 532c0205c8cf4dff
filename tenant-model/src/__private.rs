//! Items generated code reaches through `::tenant_model::__private`.
//! Not part of the public API; may change in any release.

pub use bytes::BytesMut;
pub use chrono::{DateTime, Utc};
pub use postgres_types;
pub use std::sync::OnceLock;
pub use tokio_postgres::Row;
pub use uuid::Uuid;

pub use crate::error::Error;
pub use crate::model::column::Column;
pub use crate::model::column_type::{
    ColumnType, NullableColumn, ScalarColumn, ScalarType, SqlType, TextColumn,
};
pub use crate::model::key::{FallbackKey, KeyReference, SingleColumnKey};
pub use crate::model::new_row::{new_key, FromDefault, NewRow};
pub use crate::model::pg_enum::{
    accepts as enum_accepts, from_sql as enum_from_sql, to_sql as enum_to_sql, EnumDef, PgEnum,
};
pub use crate::model::record::decode;
pub use crate::model::tenant_id::TenantId;
pub use crate::model::{
    BoxedParam, ColumnDef, DefaultValue, ForeignKeyDef, IndexColumn, IndexDef, LinkDef, Model,
    ModelDef, OnDelete, Param, Scope, SoftDeleteDef, SystemColumn, UniqueDef,
};
pub use crate::relation::{
    find_link_source, find_link_target, find_reference, AnyKey, BelongsTo, HasMany, ManyToMany,
    Reference, RelationDef, RelationKind,
};
pub use crate::sql::model_sql::ModelSql;

/// Marker types naming the system columns in type-check errors.
pub mod system {
    /// `tenant_id`: `Uuid` or `TenantId`.
    pub struct TenantIdColumn;
    /// `created_at`: `DateTime<Utc>`.
    pub struct CreatedAtColumn;
    /// `updated_at`: `DateTime<Utc>`.
    pub struct UpdatedAtColumn;
    /// `is_deleted`: `bool`.
    pub struct IsDeletedColumn;
    /// `deleted_at`: `Option<DateTime<Utc>>`.
    pub struct DeletedAtColumn;
    /// `deleted_by_id`: `Option<Uuid>`.
    pub struct DeletedByIdColumn;
}

/// A Rust type allowed for the system column `C`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the wrong type for this system column",
    label = "wrong type for a column tenant-model manages",
    note = "tenant_id: Uuid or TenantId; created_at, updated_at: DateTime<Utc>; is_deleted: bool; deleted_at: Option<DateTime<Utc>>; deleted_by_id: Option<Uuid>"
)]
pub trait SystemColumnType<C> {}
impl SystemColumnType<system::TenantIdColumn> for Uuid {}
impl SystemColumnType<system::TenantIdColumn> for TenantId {}
impl SystemColumnType<system::CreatedAtColumn> for DateTime<Utc> {}
impl SystemColumnType<system::UpdatedAtColumn> for DateTime<Utc> {}
impl SystemColumnType<system::IsDeletedColumn> for bool {}
impl SystemColumnType<system::DeletedAtColumn> for Option<DateTime<Utc>> {}
impl SystemColumnType<system::DeletedByIdColumn> for Option<Uuid> {}

/// Compile-time check: `T` may be the system column `C`.
pub const fn assert_system_column<T: SystemColumnType<C> + ?Sized, C>() {}
/// Compile-time check: `T` is a supported column type.
pub const fn assert_column_type<T: ColumnType>() {}
/// Compile-time check: `T` is text (for `max_length`).
pub const fn assert_text<T: TextColumn>() {}
/// Compile-time check: `T` is nullable (for `on_delete = set_null`).
pub const fn assert_nullable<T: NullableColumn>() {}
/// Compile-time check: `K`, the key of model `M`, has one column (for
/// `references = M`, `soft_delete(by = M)`).
pub const fn assert_single_key<K: SingleColumnKey<M>, M>() {}
/// Compile-time check: a field of type `F` can hold `K`, the key of model `M`.
pub const fn assert_key_type<F, K: KeyReference<F, M>, M>() {}

/// How generated code uses a field's type: everything goes through this one
/// trait, implemented for every [`ColumnType`]. An unsupported field type
/// then fails the same obligation (`T: ColumnField`, required for which
/// `T: ColumnType`), at the same span (the field's type), wherever the
/// derive uses it, and rustc reports it once, with `ColumnType`'s message,
/// instead of once per generated method. (No `ColumnType` supertrait: with
/// one, each use would fail a different "required by a bound in" note.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tenant-model column",
    label = "unsupported column type",
    note = "supported: Uuid, String, bool, i16, i32, i64, f32, f64, chrono::DateTime<Utc>, NaiveDate, NaiveDateTime, serde_json::Value, Json<T>, Vec<T>, Option<T>, and enums with #[derive(PgEnum)]"
)]
pub trait ColumnField: Sized {
    /// `<Self as ColumnType>::SQL_TYPE`.
    const SQL_TYPE: SqlType;
    /// `<Self as ColumnType>::NULLABLE`.
    const NULLABLE: bool;

    /// Decodes column `index` of `row` (see [`decode`]).
    fn decode(row: &Row, index: usize) -> Result<Self, Error>;

    /// The value as a statement parameter.
    fn param(&self) -> Param<'_>;

    /// One field of many rows as an array parameter (for bulk inserts).
    fn array<'a, M>(rows: &'a [M], field: impl Fn(&'a M) -> &'a Self) -> BoxedParam<'a>
    where
        Self: 'a;
}

impl<T: ColumnType> ColumnField for T {
    const SQL_TYPE: SqlType = <T as ColumnType>::SQL_TYPE;
    const NULLABLE: bool = <T as ColumnType>::NULLABLE;

    fn decode(row: &Row, index: usize) -> Result<Self, Error> {
        decode(row, index)
    }

    fn param(&self) -> Param<'_> {
        self
    }

    fn array<'a, M>(rows: &'a [M], field: impl Fn(&'a M) -> &'a Self) -> BoxedParam<'a>
    where
        Self: 'a,
    {
        Box::new(rows.iter().map(field).collect::<Vec<&'a T>>())
    }
}

/// `ToSql::to_sql_checked` of a `#[derive(PgEnum)]` type: the type check,
/// then the label. (Generated code does not use
/// `postgres_types::to_sql_checked!`, which names `Box` unqualified and
/// breaks when a user's `Box` is in scope.)
pub fn enum_to_sql_checked<E: PgEnum + postgres_types::ToSql>(
    value: &E,
    ty: &postgres_types::Type,
    out: &mut BytesMut,
) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
    if !<E as postgres_types::ToSql>::accepts(ty) {
        return Err(Box::new(postgres_types::WrongType::new::<E>(ty.clone())));
    }
    enum_to_sql(value, out)
}

/// Compile-time check of `default = <literal>` against the field's type
/// (called in a `const`, so a mismatch is a build error at the literal):
/// `true`/`false` needs a `bool`, an integer an integer (in range) or float
/// column, a float a float column, and a string on an enum column one of
/// the enum's labels. Strings on other columns are SQL literals PostgreSQL
/// parses (text, uuid, dates, jsonb, arrays) and are not checked here.
///
/// Takes the SQL type rather than a type parameter, so that an unsupported
/// field type fails only the `<T as ColumnField>` projection generated code
/// already uses (one error, not one more here).
pub const fn check_default(sql_type: SqlType, default: DefaultValue) {
    let scalar = match sql_type {
        SqlType::Scalar(scalar) => scalar,
        SqlType::Array(_) => match default {
            DefaultValue::Str(_) | DefaultValue::Expr(_) => return,
            _ => panic!("an array column's `default` is a string such as \"{{}}\""),
        },
    };
    match (scalar, default) {
        (_, DefaultValue::Expr(_)) | (ScalarType::Bool, DefaultValue::Bool(_)) => {}
        (ScalarType::Int2, DefaultValue::Int(n)) => {
            if n < i16::MIN as i64 || n > i16::MAX as i64 {
                panic!("this `default` is out of range for an `i16` column");
            }
        }
        (ScalarType::Int4, DefaultValue::Int(n)) => {
            if n < i32::MIN as i64 || n > i32::MAX as i64 {
                panic!("this `default` is out of range for an `i32` column");
            }
        }
        (ScalarType::Int8, DefaultValue::Int(_))
        | (
            ScalarType::Float4 | ScalarType::Float8,
            DefaultValue::Int(_) | DefaultValue::Float(_),
        ) => {}
        (ScalarType::Enum(def), DefaultValue::Str(label)) => {
            let mut i = 0;
            while i < def.labels.len() {
                if str_eq(def.labels[i], label) {
                    return;
                }
                i += 1;
            }
            panic!("this `default` is not one of the enum's labels");
        }
        (ScalarType::Enum(_), _) => {
            panic!("an enum column's `default` is one of its labels, as a string")
        }
        (_, DefaultValue::Str(_)) => {}
        (_, DefaultValue::Bool(_)) => panic!("`default = true` or `false` needs a `bool` column"),
        (_, DefaultValue::Int(_)) => {
            panic!("an integer `default` needs an integer or floating-point column")
        }
        (_, DefaultValue::Float(_)) => {
            panic!("a floating-point `default` needs an `f32` or `f64` column")
        }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Compile-time check of `references = M` on a `global` model (called in a
/// `const` with `M`'s scope): a global row is shared by all tenants, so it
/// cannot point at one tenant's row.
pub const fn check_global_reference(target: Scope) {
    if let Scope::Tenant = target {
        panic!("a `global` model cannot reference a tenant model: its rows are shared by all tenants, and each would point into one tenant's rows (the foreign key cannot include `tenant_id`, which a global table does not have)");
    }
}

/// As [`check_global_reference`], for `soft_delete(by = M)` on a `global`
/// model.
pub const fn check_global_deleted_by(target: Scope) {
    if let Scope::Tenant = target {
        panic!("a `global` model cannot record a tenant model in `soft_delete(by = ...)`: its rows are shared by all tenants, and `deleted_by_id` would point into one tenant's rows");
    }
}

/// Compile-time check of a `primary_key` field: key columns are NOT NULL,
/// so the field cannot be an `Option<_>` (called in a `const`).
pub const fn check_primary_key(nullable: bool) {
    if nullable {
        panic!("a `primary_key` field cannot be an `Option<_>`: key columns are NOT NULL");
    }
}
