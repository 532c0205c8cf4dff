//! Dependency order of tables: a table comes after the tables it references.

use std::collections::BTreeSet;

use crate::model::{ModelDef, Scope};

/// The tables in creation order, and the foreign keys that point forward
/// (reference cycles), which must be added after all tables exist.
#[derive(Debug)]
pub(crate) struct Ordered {
    /// Tables in creation order.
    pub(crate) tables: Vec<&'static ModelDef>,
}

/// The tables `def` references (other than itself).
pub(crate) fn references(def: &ModelDef) -> BTreeSet<&'static str> {
    def.foreign_keys
        .iter()
        .map(|fk| (fk.target)().table)
        .chain(
            def.soft_delete
                .iter()
                .filter_map(|s| s.by.map(|by| by().table)),
        )
        .chain(def.scope.eq(&Scope::Tenant).then_some("tenants"))
        .filter(|t| *t != def.table)
        .collect()
}

/// Orders `models` so each table follows the tables it references; ties
/// are broken by scope (root, global, tenant) and then by table name, so
/// the order never depends on the order models were added. Tables in a
/// reference cycle come in name order after the rest.
pub(crate) fn order(models: &[&'static ModelDef]) -> Ordered {
    let mut pending: Vec<&'static ModelDef> = models.to_vec();
    pending.sort_by_key(|m| (scope_rank(m.scope), m.table));
    let mut tables = Vec::with_capacity(pending.len());
    let mut created: BTreeSet<&'static str> = BTreeSet::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|m| {
            references(m)
                .iter()
                .all(|t| created.contains(t) || !models.iter().any(|x| x.table == *t))
        });
        // In a cycle nothing is ready: take the first by name; the forward
        // references are then added with ALTER TABLE after all tables.
        let next = pending.remove(ready.unwrap_or(0));
        created.insert(next.table);
        tables.push(next);
    }
    Ordered { tables }
}

fn scope_rank(scope: Scope) -> u8 {
    match scope {
        Scope::Root => 0,
        Scope::Global => 1,
        Scope::Tenant => 2,
    }
}
