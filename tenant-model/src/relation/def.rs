//! Relationship metadata: what `#[derive(TenantModel)]` says about a
//! model's relations ([`RelationDef`]) and the typed handles it generates
//! (`Team::ORGANIZATION`, `Organization::TEAMS`, `User::TEAMS`).

use std::marker::PhantomData;

use crate::model::{Model, ModelDef};

/// The models a handle relates, without owning any.
type Marker<T> = PhantomData<fn() -> T>;

/// The kind of a relation.
#[derive(Debug, Clone, Copy)]
pub enum RelationKind {
    /// Many-to-one, from a `references = Parent` field of this model.
    BelongsTo,
    /// One-to-many, declared on the parent: `has_many(teams = Team)`.
    HasMany,
    /// Many-to-many through a link model:
    /// `many_to_many(teams = Team, through = UserTeamLink)`.
    ManyToMany {
        /// The link model.
        through: fn() -> &'static ModelDef,
        /// The link model's relations (for soft-delete follow-through).
        through_relations: fn() -> &'static [RelationDef],
        /// The link's column that references the target model.
        target_column: &'static str,
    },
}

/// One relation of a model, as the derive describes it.
#[derive(Debug, Clone, Copy)]
pub struct RelationDef {
    /// The name the user gave it (`organization`, `teams`).
    pub name: &'static str,
    /// Belongs-to, has-many or many-to-many.
    pub kind: RelationKind,
    /// The related model.
    pub target: fn() -> &'static ModelDef,
    /// The related model's relations.
    pub target_relations: fn() -> &'static [RelationDef],
    /// The foreign-key column: on this model (belongs-to), on the target
    /// (has-many) or on the link model, referencing this model
    /// (many-to-many).
    pub column: &'static str,
}

/// A many-to-one relation of `C` to `P`, from a `references = P` field:
/// `Team::ORGANIZATION`. Loads `Option<Record<P>>` per row (`None` when the
/// column is NULL or the parent is soft-deleted).
pub struct BelongsTo<C, P> {
    pub(crate) def: RelationDef,
    // The referenced key as `P::Key`, boxed: the type names no bound on
    // `P`, so a `references` target that is not a model fails once, at the
    // attribute, and not once more here.
    pub(crate) key: fn(&C) -> Option<AnyKey>,
    pub(crate) with_deleted: bool,
    _models: Marker<(C, P)>,
}

/// A one-to-many relation of `P` to `C`, declared on `P` with
/// `has_many(name = C)`: `Organization::TEAMS`. Loads `Vec<Record<C>>` per
/// row, in `C`'s key order.
pub struct HasMany<P: Model, C> {
    pub(crate) def: RelationDef,
    pub(crate) key: fn(&P) -> P::Key,
    pub(crate) with_deleted: bool,
    _models: Marker<(P, C)>,
}

/// A many-to-many relation of `L` to `R` through the link model `K`,
/// declared on `L` with `many_to_many(name = R, through = K)`:
/// `User::TEAMS`. Loads `Vec<Linked<R, K>>` per row: each related row with
/// the link row's own columns (`member.link.role`), in `R`'s key order.
pub struct ManyToMany<L: Model, R, K> {
    pub(crate) def: RelationDef,
    pub(crate) key: fn(&L) -> L::Key,
    pub(crate) with_deleted: bool,
    _models: Marker<(L, R, K)>,
}

macro_rules! handle_common {
    ($name:ident<$($p:ident),+> where $bound:ident) => {
        impl<$($p),+> Clone for $name<$($p),+> where $bound: Model {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($p),+> Copy for $name<$($p),+> where $bound: Model {}

        impl<$($p),+> std::fmt::Debug for $name<$($p),+> where $bound: Model {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("name", &self.def.name)
                    .field("column", &self.def.column)
                    .field("with_deleted", &self.with_deleted)
                    .finish()
            }
        }

        impl<$($p),+> $name<$($p),+> where $bound: Model {
            /// The relation's description.
            pub fn def(&self) -> &RelationDef {
                &self.def
            }

            /// The relation's name.
            pub fn name(&self) -> &'static str {
                self.def.name
            }

            /// Loads soft-deleted related rows too (by default they are
            /// hidden; for a many-to-many relation this covers the related
            /// rows and the link rows).
            pub fn with_deleted(mut self) -> Self {
                self.with_deleted = true;
                self
            }
        }
    };
}

handle_common!(BelongsTo<C, P> where C);
handle_common!(HasMany<P, C> where P);
handle_common!(ManyToMany<L, R, K> where L);

/// A key of some model, boxed (see [`BelongsTo`]).
#[doc(hidden)]
pub type AnyKey = Box<dyn std::any::Any + Send + Sync>;

impl<C, P> BelongsTo<C, P> {
    #[doc(hidden)]
    pub const fn new(def: RelationDef, key: fn(&C) -> Option<AnyKey>) -> Self {
        BelongsTo {
            def,
            key,
            with_deleted: false,
            _models: PhantomData,
        }
    }
}

impl<P: Model, C> HasMany<P, C> {
    #[doc(hidden)]
    pub const fn new(def: RelationDef, key: fn(&P) -> P::Key) -> Self {
        HasMany {
            def,
            key,
            with_deleted: false,
            _models: PhantomData,
        }
    }
}

impl<L: Model, R, K> ManyToMany<L, R, K> {
    #[doc(hidden)]
    pub const fn new(def: RelationDef, key: fn(&L) -> L::Key) -> Self {
        ManyToMany {
            def,
            key,
            with_deleted: false,
            _models: PhantomData,
        }
    }

    /// The link's column that references `R`.
    pub(crate) fn target_column(&self) -> &'static str {
        match self.def.kind {
            RelationKind::ManyToMany { target_column, .. } => target_column,
            _ => "",
        }
    }
}
