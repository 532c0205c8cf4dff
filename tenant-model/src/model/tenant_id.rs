//! The tenant identifier.

use std::fmt;
use std::str::FromStr;

use postgres_types::{FromSql, IsNull, ToSql, Type};
use uuid::Uuid;

/// The id of a tenant (a row of the built-in `tenants` table).
///
/// A distinct type so that a tenant id is never confused with another key:
/// scopes take a `TenantId`, and a `Uuid` converts with `.into()`.
///
/// ```
/// use tenant_model::TenantId;
/// let id: TenantId = uuid::Uuid::nil().into();
/// assert_eq!(id.to_string(), "00000000-0000-0000-0000-000000000000");
/// assert_eq!("00000000-0000-0000-0000-000000000000".parse::<TenantId>().unwrap(), id);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Uuid);

impl TenantId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        TenantId(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for TenantId {
    fn from(id: Uuid) -> Self {
        TenantId(id)
    }
}

impl From<TenantId> for Uuid {
    fn from(id: TenantId) -> Self {
        id.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TenantId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(TenantId)
    }
}

impl ToSql for TenantId {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Uuid as ToSql>::accepts(ty)
    }

    postgres_types::to_sql_checked!();
}

impl<'a> FromSql<'a> for TenantId {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Uuid::from_sql(ty, raw).map(TenantId)
    }

    fn accepts(ty: &Type) -> bool {
        <Uuid as FromSql>::accepts(ty)
    }
}

impl crate::model::column_type::ColumnType for TenantId {
    const SQL_TYPE: crate::model::column_type::SqlType =
        crate::model::column_type::SqlType::Scalar(crate::model::column_type::ScalarType::Uuid);
}
