//! Items generated code reaches through `::tenant_model::__private`.
//! Not part of the public API; may change in any release.

pub use bytes::BytesMut;
pub use chrono::{DateTime, Utc};
pub use postgres_types;
pub use std::sync::OnceLock;
pub use tokio_postgres::Row;
pub use uuid::Uuid;

pub use crate::column::Column;
pub use crate::column_type::{ColumnType, KeyColumn, NullableColumn, ScalarColumn, SqlType, TextColumn};
pub use crate::error::Error;
pub use crate::model::{
    BoxedParam, ColumnDef, DefaultValue, ForeignKeyDef, IndexColumn, IndexDef, LinkDef, Model,
    ModelDef, OnDelete, Param, Scope, SoftDeleteDef, SystemColumn, UniqueDef,
};
pub use crate::model_sql::ModelSql;
pub use crate::pg_enum::{accepts as enum_accepts, from_sql as enum_from_sql, to_sql as enum_to_sql, EnumDef, PgEnum};
pub use crate::record::decode;
pub use crate::tenant_id::TenantId;

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
/// Compile-time check: `T` can hold a key (for `references = ...`).
pub const fn assert_key<T: KeyColumn>() {}
/// Compile-time check: `T` is a model (for `references`, `by`, `link`).
pub const fn assert_model<T: Model>() {}
