//! What makes a set of models impossible to emit as one schema: two models
//! on one table, and references the foreign-key emitter cannot honour.
//!
//! `#[derive(TenantModel)]` already rejects the references at compile time
//! (a composite-key target, a global model pointing at a tenant model); the
//! checks here cover descriptions written by hand and give the emitter one
//! place that guarantees what it relies on. Two models on one table cannot
//! be seen by any single derive: only the set of models shows it.
//!
//! For [`Target::Citus`] the models must also be distributable: what Citus
//! refuses and the library cannot stand in for is reported here, naming the
//! rule (see [`citus`]).

use crate::model::{ModelDef, OnDelete, Scope};
use crate::relation::{RelationDef, RelationKind};
use crate::schema::target::Target;

/// Why a [`Schema`](super::Schema) cannot be emitted.
///
/// ```
/// use tenant_model::prelude::*;
/// use tenant_model::schema::SchemaError;
///
/// #[derive(TenantModel)]
/// #[tenant_model(table = "notes")]
/// pub struct Note { #[tenant_model(primary_key)] pub id: Uuid }
///
/// #[derive(TenantModel)]
/// #[tenant_model(table = "notes")]
/// pub struct Memo { #[tenant_model(primary_key)] pub id: Uuid }
///
/// let schema = Schema::new().model::<Note>().model::<Memo>();
/// assert_eq!(
///     schema.check(),
///     Err(SchemaError::DuplicateTable { table: "notes", first: "Note", second: "Memo" })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Two different models map to the same table (also the built-in
    /// `tenants` table).
    #[error("models `{first}` and `{second}` both map to table `{table}`: give one of them another `#[tenant_model(table = \"...\")]`")]
    DuplicateTable {
        /// The table.
        table: &'static str,
        /// The model added first (the one whose table would be emitted).
        first: &'static str,
        /// The model added later.
        second: &'static str,
    },

    /// A foreign key points at a model whose primary key is not one column.
    #[error("`{model}.{column}` references `{target}`, whose primary key has {key_columns} columns; a reference needs a single-column key")]
    CompositeKeyReference {
        /// The referencing model.
        model: &'static str,
        /// The referencing column.
        column: &'static str,
        /// The referenced model.
        target: &'static str,
        /// How many columns the target's key has.
        key_columns: usize,
    },

    /// A global model points at a tenant model: a row shared by all tenants
    /// would point into one tenant's rows.
    #[error("global model `{model}` references tenant model `{target}` in `{column}`: a row shared by all tenants cannot point into one tenant's rows")]
    GlobalReferencesTenant {
        /// The referencing (global) model.
        model: &'static str,
        /// The referencing column.
        column: &'static str,
        /// The referenced (tenant) model.
        target: &'static str,
    },

    /// A soft-delete model references a soft-delete parent with `on_delete
    /// = cascade`, but the parent declares no relation to it: a soft delete
    /// of the parent follows the relations it declares, so these rows would
    /// stay live under a hidden parent.
    #[error("`{child}.{column}` references `{parent}` with `on_delete = cascade` and both have soft delete, but `{parent}` declares no `has_many(... = {child}, via = {column})` (or `many_to_many(..., through = {child})`): soft-deleting a `{parent}` would leave its `{child}` rows live; declare the relation so the soft delete follows it")]
    UndeclaredSoftDeleteCascade {
        /// The referenced model.
        parent: &'static str,
        /// The referencing model.
        child: &'static str,
        /// The referencing column.
        column: &'static str,
    },

    /// [`Target::Citus`]: a reference between two tenant models is
    /// `on_delete = set_default`. Its foreign key includes `tenant_id`, the
    /// distribution column, and Citus refuses `SET NULL` and `SET DEFAULT`
    /// on such a key; the library stands in for `SET NULL` only.
    #[error("`{model}.{column}` references tenant model `{target}` with `on_delete = set_default`, which Citus cannot distribute: a foreign key that includes the distribution column `tenant_id` may not SET NULL or SET DEFAULT on delete (tenant-model stands in for set_null, not for set_default); use `on_delete = set_null`, `cascade` or `restrict`")]
    CitusSetDefault {
        /// The referencing model.
        model: &'static str,
        /// The referencing column.
        column: &'static str,
        /// The referenced (tenant) model.
        target: &'static str,
    },

    /// [`Target::Citus`]: a `set_null` reference between two tenant models
    /// (emitted without the action, the library nulls the column before it
    /// deletes the referenced row) points at a model whose rows the database
    /// also deletes by cascade, where the library cannot null anything first.
    #[error("`{model}.{column}` references tenant model `{target}` with `on_delete = set_null`, and `{via_model}.{via_column}` deletes `{target}` rows by `on_delete = cascade`: Citus refuses SET NULL on a foreign key that includes the distribution column `tenant_id`, so tenant-model nulls `{column}` itself before it deletes a `{target}`, which it cannot do for rows the database deletes by cascade; make one of the two references `cascade` or `restrict`")]
    CitusSetNullUnderCascade {
        /// The model holding the `set_null` reference.
        model: &'static str,
        /// Its referencing column.
        column: &'static str,
        /// The referenced (tenant) model.
        target: &'static str,
        /// The model whose `cascade` reference deletes `target` rows.
        via_model: &'static str,
        /// That model's referencing column.
        via_column: &'static str,
    },
}

/// Whether `a` and `b` describe the same model. Addresses of constants are
/// not unique (a `const` may be instantiated once per use), so equal
/// descriptions count as one model.
pub(crate) fn same_model(a: &ModelDef, b: &ModelDef) -> bool {
    std::ptr::eq(a, b)
        || (a.rust_name == b.rust_name
            && a.table == b.table
            && a.scope == b.scope
            && a.primary_key == b.primary_key
            && a.fields.len() == b.fields.len()
            && a.fields
                .iter()
                .zip(b.fields)
                .all(|(x, y)| x.field == y.field && x.name == y.name))
}

/// Every problem with `models` (the models a schema emits) and `rejected`
/// (models that were left out because their table was taken), in the order
/// they were added.
pub(crate) fn check(
    models: &[&'static ModelDef],
    rejected: &[&'static ModelDef],
    relations: &[(&'static ModelDef, &'static [RelationDef])],
    target: Target,
) -> Vec<SchemaError> {
    let duplicates = rejected.iter().filter_map(|second| {
        let first = models.iter().find(|m| m.table == second.table)?;
        Some(SchemaError::DuplicateTable {
            table: second.table,
            first: first.rust_name,
            second: second.rust_name,
        })
    });
    let references = models.iter().flat_map(|model| references(model));
    let cascades = models
        .iter()
        .flat_map(|model| undeclared_cascades(model, relations));
    let distribution = match target {
        Target::Postgres => Vec::new(),
        Target::Citus => citus(models),
    };
    duplicates
        .chain(references)
        .chain(cascades)
        .chain(distribution)
        .collect()
}

/// What keeps `models` from being distributed on Citus (after the checks
/// every target makes; a global model pointing at a tenant model, which
/// Citus refuses too, is [`SchemaError::GlobalReferencesTenant`]).
///
/// Every primary and unique key of a tenant table leads with `tenant_id`
/// (the emitter puts it there; see `Table`), so keys need no check here:
/// what remains are the foreign keys between tenant tables, which include
/// `tenant_id` and so may not `SET NULL` or `SET DEFAULT`.
fn citus(models: &[&'static ModelDef]) -> Vec<SchemaError> {
    let refs: Vec<_> = models
        .iter()
        .flat_map(|model| {
            model
                .references()
                .map(move |(column, target, on_delete)| (*model, column, target(), on_delete))
        })
        .collect();
    refs.iter()
        .filter(|(model, _, target, _)| {
            model.scope == Scope::Tenant && target.scope == Scope::Tenant
        })
        .filter_map(|&(model, column, target, on_delete)| match on_delete {
            OnDelete::SetDefault => Some(SchemaError::CitusSetDefault {
                model: model.rust_name,
                column,
                target: target.rust_name,
            }),
            OnDelete::SetNull => {
                // A cascade out of `target` (into any table) deletes its
                // rows inside the database.
                let (via, via_column, ..) = refs.iter().find(|(from, _, _, action)| {
                    *action == OnDelete::Cascade && same_model(from, target)
                })?;
                Some(SchemaError::CitusSetNullUnderCascade {
                    model: model.rust_name,
                    column,
                    target: target.rust_name,
                    via_model: via.rust_name,
                    via_column,
                })
            }
            _ => None,
        })
        .collect()
}

/// The soft-delete cascades of `child` that no declared relation of its
/// parent follows. A parent added only through a reference (its relations
/// unknown here) and a reference of a table to itself (a tree, which the
/// cascade does not walk) are not checked.
fn undeclared_cascades(
    child: &'static ModelDef,
    relations: &[(&'static ModelDef, &'static [RelationDef])],
) -> Vec<SchemaError> {
    if child.soft_delete.is_none() {
        return Vec::new();
    }
    child
        .foreign_keys
        .iter()
        .filter(|fk| fk.on_delete == OnDelete::Cascade)
        .filter_map(|fk| {
            let parent = (fk.target)();
            if parent.soft_delete.is_none() || parent.table == child.table {
                return None;
            }
            let (_, declared) = relations.iter().find(|(def, _)| same_model(def, parent))?;
            let follows = declared.iter().any(|relation| {
                let via = match relation.kind {
                    RelationKind::HasMany => (relation.target)(),
                    RelationKind::ManyToMany { through, .. } => through(),
                    RelationKind::BelongsTo => return false,
                };
                via.table == child.table && relation.column == fk.column
            });
            (!follows).then_some(SchemaError::UndeclaredSoftDeleteCascade {
                parent: parent.rust_name,
                child: child.rust_name,
                column: fk.column,
            })
        })
        .collect()
}

/// The problems with one model's foreign keys (declared and `deleted_by_id`).
fn references(model: &'static ModelDef) -> Vec<SchemaError> {
    model
        .references()
        .filter_map(|(column, target, _)| {
            let target = target();
            if target.primary_key.len() != 1 {
                Some(SchemaError::CompositeKeyReference {
                    model: model.rust_name,
                    column,
                    target: target.rust_name,
                    key_columns: target.primary_key.len(),
                })
            } else if model.scope == Scope::Global && target.scope == Scope::Tenant {
                Some(SchemaError::GlobalReferencesTenant {
                    model: model.rust_name,
                    column,
                    target: target.rust_name,
                })
            } else {
                None
            }
        })
        .collect()
}
