//! What a column's values compare with: `Option<String>` compares with
//! `String`, `Vec<T>` with `Vec<T>`.

use postgres_types::{Json, ToSql};

use crate::model::column_type::ScalarColumn;

/// The type a column is compared with in filters.
pub trait Operand {
    /// The comparable value (the column type without `Option`).
    type Value: ToSql + Sync + Send + 'static;

    /// Whether the column may hold NULL (an `Option` column).
    const NULLABLE: bool = false;

    /// Whether this value of the column is NULL.
    fn is_null(&self) -> bool {
        false
    }
}

impl<T: ScalarColumn + 'static> Operand for T {
    type Value = T;
}

impl Operand for serde_json::Value {
    type Value = serde_json::Value;
}

impl<T> Operand for Json<T>
where
    T: serde::Serialize + std::fmt::Debug + Send + Sync + 'static,
{
    type Value = Json<T>;
}

impl<T: ScalarColumn + 'static> Operand for Vec<T> {
    type Value = Vec<T>;
}

impl<T: Operand> Operand for Option<T> {
    type Value = T::Value;

    const NULLABLE: bool = true;

    fn is_null(&self) -> bool {
        self.is_none()
    }
}

/// Text columns (`String`, `Option<String>`), which have `like`/`ilike`.
pub trait TextOperand: Operand {}
impl TextOperand for String {}
impl TextOperand for Option<String> {}

/// JSON columns (`serde_json::Value`, `Json<T>`, and their `Option`s),
/// which have key access and containment.
pub trait JsonOperand: Operand {}
impl JsonOperand for serde_json::Value {}
impl JsonOperand for Option<serde_json::Value> {}
impl<T> JsonOperand for Json<T> where T: serde::Serialize + std::fmt::Debug + Send + Sync + 'static {}
impl<T> JsonOperand for Option<Json<T>> where
    T: serde::Serialize + std::fmt::Debug + Send + Sync + 'static
{
}
