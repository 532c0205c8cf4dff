//! New rows from their required fields: declared defaults and new ids
//! filled in Rust, so that an insert writes what the schema would.

use uuid::Uuid;

use crate::model::def::DefaultValue;
use crate::model::pg_enum::PgEnum;
use crate::model::Model;

/// A model whose new rows can be built from their required fields alone.
/// `#[derive(TenantModel)]` implements it.
///
/// [`NewRow::with_defaults`] fills
/// - a single `Uuid` primary key with a new time-ordered id
///   (`Uuid::now_v7()`),
/// - each field with a `default = <literal>` with that value in Rust
///   (`true`, `42`, `1.5`, `"text"` on a `String`, a JSONB literal on a
///   `serde_json::Value`, an enum label on a `#[derive(PgEnum)]` enum),
/// - each other `Option<_>` field with `None`,
///
/// and takes every other field, in declaration order, as
/// [`NewRow::Required`]: `()` for none, the field's type for one, a tuple
/// for several. A missing or extra required field is a type error.
///
/// Required are: fields without a default, fields with `default_sql` (an
/// SQL expression has no Rust value), fields whose string default is not
/// text, JSON or an enum label (a date, an array, a UUID), keys other than
/// a single `Uuid`, and system columns declared as fields.
///
/// A trait rather than a generated builder type, because the derive adds
/// trait impls and associated consts only: it never invents public items
/// with fixed names. Change any other field with struct update syntax.
///
/// ```
/// use tenant_model::prelude::*;
/// use tenant_model::NewRow;
///
/// #[derive(TenantModel, Debug, Clone, PartialEq)]
/// pub struct Member {
///     #[tenant_model(primary_key)]
///     pub id: Uuid,
///     pub email: String,
///     pub name: String,
///     #[tenant_model(default = true)]
///     pub is_active: bool,
///     #[tenant_model(default = "{}")]
///     pub preferences: serde_json::Value,
///     pub nickname: Option<String>,
/// }
///
/// let ann = Member::with_defaults(("ann@acme.test".into(), "Ann".into()));
/// assert!(ann.is_active);
/// assert_eq!(ann.preferences, serde_json::json!({}));
/// assert_eq!(ann.nickname, None);
/// assert_eq!(ann.id.get_version_num(), 7);
///
/// let bob = Member { is_active: false, ..Member::with_defaults(("bob@acme.test".into(), "Bob".into())) };
/// assert!(!bob.is_active);
/// ```
pub trait NewRow: Model {
    /// The fields without a Rust default, in declaration order: `()`, the
    /// one field's type, or a tuple of them.
    type Required;

    /// A new row: the required fields as given, every other field from its
    /// default (see the trait's documentation).
    fn with_defaults(required: Self::Required) -> Self;
}

/// The Rust value of a `default = <literal>` for a field type. The derive
/// has already checked the literal against the column at compile time.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Rust value for a `default = \"...\"` literal",
    note = "Rust defaults exist for bool, integers, floats, String, serde_json::Value and PgEnum enums; write `default_sql = \"...\"` to keep this default in SQL only"
)]
pub trait FromDefault: Sized {
    /// The value of `default`.
    fn from_default(default: DefaultValue) -> Self;
}

impl FromDefault for bool {
    fn from_default(default: DefaultValue) -> Self {
        matches!(default, DefaultValue::Bool(true))
    }
}

macro_rules! int_defaults {
    ($($ty:ty),*) => {$(
        impl FromDefault for $ty {
            fn from_default(default: DefaultValue) -> Self {
                match default {
                    // In range: checked at compile time.
                    DefaultValue::Int(n) => <$ty>::try_from(n).unwrap_or_default(),
                    _ => 0,
                }
            }
        }
    )*};
}

int_defaults!(i16, i32, i64);

macro_rules! float_defaults {
    ($($ty:ty),*) => {$(
        impl FromDefault for $ty {
            fn from_default(default: DefaultValue) -> Self {
                match default {
                    DefaultValue::Int(n) => n as $ty,
                    DefaultValue::Float(text) => text.parse().unwrap_or_default(),
                    _ => 0.0,
                }
            }
        }
    )*};
}

float_defaults!(f32, f64);

impl FromDefault for String {
    fn from_default(default: DefaultValue) -> Self {
        match default {
            DefaultValue::Str(text) => text.to_owned(),
            _ => String::new(),
        }
    }
}

impl FromDefault for serde_json::Value {
    /// A JSON literal that does not parse gives JSON `null`: the column's
    /// own default would fail in the schema the same way.
    fn from_default(default: DefaultValue) -> Self {
        match default {
            DefaultValue::Str(text) => serde_json::from_str(text).unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }
}

impl<T: FromDefault> FromDefault for Option<T> {
    fn from_default(default: DefaultValue) -> Self {
        Some(T::from_default(default))
    }
}

/// An enum label (checked against the enum's labels at compile time, so
/// `from_label` finds it).
impl<E: PgEnum> FromDefault for E {
    fn from_default(default: DefaultValue) -> Self {
        let label = match default {
            DefaultValue::Str(label) => label,
            _ => "",
        };
        match E::from_label(label) {
            Some(value) => value,
            None => unreachable!(
                "`default = {label:?}` was checked against the enum's labels at compile time"
            ),
        }
    }
}

/// A new primary key: a time-ordered UUID (keeps B-tree inserts local).
#[doc(hidden)]
pub fn new_key() -> Uuid {
    Uuid::now_v7()
}
