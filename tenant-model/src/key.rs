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

/// The key of the derive's fallback output (never used at run time).
impl Key for () {
    fn params(&self) -> Vec<Param<'_>> {
        Vec::new()
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
