//! Relationships: many-to-one (`references`), one-to-many (`has_many`) and
//! many-to-many through a link model (`many_to_many`), loaded in batches
//! inside a tenant context, with link management, filters across a
//! relation and soft delete followed through.

pub(crate) mod cascade;
mod check;
mod def;
mod filter;
mod link;
mod load;
mod loaded;

pub use check::{find_link_source, find_link_target, find_reference, Reference};
pub use def::{AnyKey, BelongsTo, HasMany, ManyToMany, RelationDef, RelationKind};
pub use load::{load_related, Load, Nested, Relation, RelationKey, WithQuery};
pub use loaded::{AsRecord, Linked, Loaded};
