//! PostgreSQL enums: `#[derive(PgEnum)]` maps a fieldless Rust enum to
//! `CREATE TYPE ... AS ENUM (...)`.

use std::error::Error as StdError;

use postgres_types::{IsNull, Kind, Type};

/// The static description of a PostgreSQL enum type.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumDef {
    /// The Rust type's name, for messages.
    pub rust_name: &'static str,
    /// The SQL type name (snake_case of the Rust name unless renamed).
    pub name: &'static str,
    /// The labels, in declaration order (which is the enum's sort order).
    pub labels: &'static [&'static str],
}

/// A Rust enum stored as a PostgreSQL enum. Implemented by `#[derive(PgEnum)]`.
///
/// ```
/// use tenant_model::PgEnum;
///
/// #[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
/// pub enum UserRole { Owner, Admin, Member, Guest }
///
/// assert_eq!(<UserRole as PgEnum>::ENUM.name, "user_role");
/// assert_eq!(UserRole::Member.label(), "member");
/// assert_eq!(UserRole::from_label("guest"), Some(UserRole::Guest));
/// ```
pub trait PgEnum: Sized + Send + Sync + 'static {
    /// The type's description.
    const ENUM: &'static EnumDef;

    /// This value's label.
    fn label(&self) -> &'static str;

    /// The value with this label.
    fn from_label(label: &str) -> Option<Self>;
}

/// Whether `ty` is the Postgres type of enum `E` (used by generated
/// `ToSql`/`FromSql` impls).
pub fn accepts<E: PgEnum>(ty: &Type) -> bool {
    ty.name() == E::ENUM.name && matches!(ty.kind(), Kind::Enum(_))
}

/// Writes an enum label in the binary format (the label's bytes).
pub fn to_sql<E: PgEnum>(
    value: &E,
    out: &mut bytes::BytesMut,
) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
    out.extend_from_slice(value.label().as_bytes());
    Ok(IsNull::No)
}

/// Reads an enum label in the binary format.
pub fn from_sql<E: PgEnum>(raw: &[u8]) -> Result<E, Box<dyn StdError + Sync + Send>> {
    let label = std::str::from_utf8(raw)?;
    E::from_label(label).ok_or_else(|| {
        format!(
            "unknown label {label:?} for enum {} ({})",
            E::ENUM.rust_name,
            E::ENUM.name
        )
        .into()
    })
}
