//! Which Rust types can be columns, and the SQL type each maps to.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres_types::{FromSqlOwned, Json, ToSql};
use uuid::Uuid;

use crate::model::pg_enum::EnumDef;

/// The SQL type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// A single value.
    Scalar(ScalarType),
    /// A one-dimensional array of values (`Vec<T>`).
    Array(ScalarType),
}

/// A PostgreSQL element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// `uuid`
    Uuid,
    /// `text`, or `varchar(n)` with `max_length = n`
    Text,
    /// `boolean`
    Bool,
    /// `smallint`
    Int2,
    /// `integer`
    Int4,
    /// `bigint`
    Int8,
    /// `real`
    Float4,
    /// `double precision`
    Float8,
    /// `timestamptz`
    Timestamptz,
    /// `timestamp` (without time zone)
    Timestamp,
    /// `date`
    Date,
    /// `jsonb`
    Jsonb,
    /// A PostgreSQL enum declared with `#[derive(PgEnum)]`.
    Enum(&'static EnumDef),
}

impl ScalarType {
    /// The type's name in DDL (`varchar(n)` is rendered by the schema emitter).
    pub fn sql_name(self) -> &'static str {
        match self {
            ScalarType::Uuid => "uuid",
            ScalarType::Text => "text",
            ScalarType::Bool => "boolean",
            ScalarType::Int2 => "smallint",
            ScalarType::Int4 => "integer",
            ScalarType::Int8 => "bigint",
            ScalarType::Float4 => "real",
            ScalarType::Float8 => "double precision",
            ScalarType::Timestamptz => "timestamptz",
            ScalarType::Timestamp => "timestamp",
            ScalarType::Date => "date",
            ScalarType::Jsonb => "jsonb",
            ScalarType::Enum(def) => def.name,
        }
    }
}

impl SqlType {
    /// The element type, for scalars and arrays alike.
    pub fn scalar(self) -> ScalarType {
        match self {
            SqlType::Scalar(s) | SqlType::Array(s) => s,
        }
    }

    /// The enum this column uses, if any.
    pub fn enum_def(self) -> Option<&'static EnumDef> {
        match self.scalar() {
            ScalarType::Enum(def) => Some(def),
            _ => None,
        }
    }
}

/// A Rust type that can be stored in a model column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tenant-model column",
    label = "unsupported column type",
    note = "supported: Uuid, String, bool, i16, i32, i64, f32, f64, chrono::DateTime<Utc>, NaiveDate, NaiveDateTime, serde_json::Value, Json<T>, Vec<T>, Option<T>, and enums with #[derive(PgEnum)]"
)]
pub trait ColumnType: ToSql + FromSqlOwned + Send + Sync {
    /// The SQL type.
    const SQL_TYPE: SqlType;
    /// Whether the column allows NULL (only `Option<T>`).
    const NULLABLE: bool = false;
}

/// A column type that can be an array element (`Vec<T>`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of an array column",
    note = "array elements: Uuid, String, bool, integers, floats, dates and times, and enums with #[derive(PgEnum)]"
)]
pub trait ScalarColumn: ColumnType {
    /// The element type.
    const SCALAR: ScalarType;
}

macro_rules! scalar_columns {
    ($($ty:ty => $scalar:ident),* $(,)?) => {$(
        impl ColumnType for $ty {
            const SQL_TYPE: SqlType = SqlType::Scalar(ScalarType::$scalar);
        }
        impl ScalarColumn for $ty {
            const SCALAR: ScalarType = ScalarType::$scalar;
        }
    )*};
}

scalar_columns! {
    Uuid => Uuid,
    String => Text,
    bool => Bool,
    i16 => Int2,
    i32 => Int4,
    i64 => Int8,
    f32 => Float4,
    f64 => Float8,
    DateTime<Utc> => Timestamptz,
    NaiveDateTime => Timestamp,
    NaiveDate => Date,
}

impl ColumnType for serde_json::Value {
    const SQL_TYPE: SqlType = SqlType::Scalar(ScalarType::Jsonb);
}

impl<T> ColumnType for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync,
{
    const SQL_TYPE: SqlType = SqlType::Scalar(ScalarType::Jsonb);
}

impl<T: ScalarColumn> ColumnType for Vec<T> {
    const SQL_TYPE: SqlType = SqlType::Array(T::SCALAR);
}

impl<T: ColumnType> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
}

/// Column types that accept `max_length` (`String`, `Option<String>`).
#[diagnostic::on_unimplemented(
    message = "`max_length` needs a text column, but this field is `{Self}`",
    label = "not a `String` or `Option<String>`"
)]
pub trait TextColumn {}
impl TextColumn for String {}
impl TextColumn for Option<String> {}

/// Column types that may be set to NULL by `on_delete = set_null` (`Option<T>`).
#[diagnostic::on_unimplemented(
    message = "`on_delete = set_null` needs a nullable column, but this field is `{Self}`",
    label = "make this field an `Option<_>`"
)]
pub trait NullableColumn {}
impl<T> NullableColumn for Option<T> {}

impl ScalarColumn for crate::TenantId {
    const SCALAR: ScalarType = ScalarType::Uuid;
}
