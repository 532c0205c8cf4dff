//! Primary-key values: one column (`Uuid`) or several (`(Uuid, Uuid)`).

use uuid::Uuid;

use crate::model::Param;

/// The value of a model's primary key, bound as parameters in key order.
///
/// `#[derive(TenantModel)]` sets `Model::Key` to the key field's type, or
/// a tuple of them for a composite key, so `find::<UserTeamLink>((user,
/// team))` type-checks and `find::<User>((a, b))` does not.
pub trait Key: Send + Sync {
    /// The key's values as parameters, in key order.
    fn params(&self) -> Vec<Param<'_>>;
}

macro_rules! single_keys {
    ($($ty:ty),*) => {$(
        impl Key for $ty {
            fn params(&self) -> Vec<Param<'_>> {
                vec![self]
            }
        }
    )*};
}

single_keys!(Uuid, String, i16, i32, i64, crate::TenantId);

/// Keys are never NULL (the derive rejects `Option` key fields); this
/// impl only keeps that rejection to one clear error.
impl<T: tokio_postgres::types::ToSql + Send + Sync> Key for Option<T> {
    fn params(&self) -> Vec<Param<'_>> {
        vec![self]
    }
}

macro_rules! tuple_keys {
    ($(($($name:ident : $idx:tt),+)),*) => {$(
        impl<$($name: tokio_postgres::types::ToSql + Send + Sync),+> Key for ($($name,)+) {
            fn params(&self) -> Vec<Param<'_>> {
                vec![$(&self.$idx),+]
            }
        }
    )*};
}

tuple_keys!((A: 0, B: 1), (A: 0, B: 1, C: 2), (A: 0, B: 1, C: 2, D: 3));

/// A primary key of one column, the only kind `references = M` and
/// `soft_delete(by = M)` can point at (a foreign key names one column).
/// `M` is the model whose key `Self` is, for the message.
///
/// Implemented for the single-column key types; the derive checks it at
/// compile time, so a reference to a model with a composite key is a build
/// error at the `references` attribute.
#[diagnostic::on_unimplemented(
    message = "`{M}` has a composite primary key `{Self}`; `references` and `soft_delete(by = ...)` need a model with a single-column key",
    label = "composite primary key",
    note = "a foreign key points at one key column; reference a model with one `primary_key` field"
)]
pub trait SingleColumnKey<M> {}

/// A field of type `F` can hold a reference to model `M`, whose key type is
/// `Self`: `F` is the key's type, or `Option` of it (a `TenantId` field may
/// hold a `Uuid` key).
///
/// Composite keys accept any field here: they are rejected once, by
/// [`SingleColumnKey`].
#[diagnostic::on_unimplemented(
    message = "a field referencing `{M}` must have the type of its key, `{Self}` (or `Option<{Self}>`), not `{F}`",
    label = "not the type of `{M}`'s key"
)]
pub trait KeyReference<F, M>: Sized {
    /// The key a field of type `F` holds (`None` when it is NULL), for
    /// loading the relation the field makes.
    fn from_field(field: &F) -> Option<Self>;
}

impl<M> SingleColumnKey<M> for Uuid {}
impl<M> SingleColumnKey<M> for crate::TenantId {}
impl<M> SingleColumnKey<M> for String {}
impl<M> SingleColumnKey<M> for i16 {}
impl<M> SingleColumnKey<M> for i32 {}
impl<M> SingleColumnKey<M> for i64 {}

macro_rules! key_references {
    ($($ty:ty),*) => {$(
        impl<M> KeyReference<$ty, M> for $ty {
            fn from_field(field: &$ty) -> Option<$ty> {
                Some(field.clone())
            }
        }
        impl<M> KeyReference<Option<$ty>, M> for $ty {
            fn from_field(field: &Option<$ty>) -> Option<$ty> {
                field.clone()
            }
        }
    )*};
}

key_references!(Uuid, crate::TenantId, String, i16, i32, i64);

impl<M> KeyReference<crate::TenantId, M> for Uuid {
    fn from_field(field: &crate::TenantId) -> Option<Uuid> {
        Some(Uuid::from(*field))
    }
}
impl<M> KeyReference<Option<crate::TenantId>, M> for Uuid {
    fn from_field(field: &Option<crate::TenantId>) -> Option<Uuid> {
        field.map(Uuid::from)
    }
}
impl<M> KeyReference<Uuid, M> for crate::TenantId {
    fn from_field(field: &Uuid) -> Option<crate::TenantId> {
        Some(crate::TenantId::from(*field))
    }
}
impl<M> KeyReference<Option<Uuid>, M> for crate::TenantId {
    fn from_field(field: &Option<Uuid>) -> Option<crate::TenantId> {
        field.map(crate::TenantId::from)
    }
}

/// The key of the derive's fallback output (never used at run time): a
/// model that failed to derive adds no errors to the models that reference
/// it. A type of its own, so that the "implemented for" hints of the errors
/// above do not name it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct FallbackKey;

impl Key for FallbackKey {
    fn params(&self) -> Vec<Param<'_>> {
        Vec::new()
    }
}
impl<M> SingleColumnKey<M> for FallbackKey {}
impl<F, M> KeyReference<F, M> for FallbackKey {
    fn from_field(_: &F) -> Option<FallbackKey> {
        None
    }
}

macro_rules! composite_key_references {
    ($(($($name:ident),+)),*) => {$(
        impl<F, M, $($name),+> KeyReference<F, M> for ($($name,)+) {
            fn from_field(_: &F) -> Option<Self> {
                None
            }
        }
    )*};
}

composite_key_references!((A, B), (A, B, C), (A, B, C, D));
