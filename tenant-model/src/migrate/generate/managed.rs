//! What of the live namespace autogenerate manages, and what it reports
//! and leaves alone.
//!
//! Managed: the tables the models define, and tables that tenant-model
//! created (they carry the `tenant_model_touch` trigger every emitted table
//! has) that the models no longer define, which are dropped; on those
//! tables, every column, key, index, policy, grant and the touch trigger;
//! the enum types the models define or those tables use; the functions
//! the schema creates. Everything else in the namespace is reported as
//! unexpressible and never changed: tables tenant-model did not create,
//! triggers calling other functions, CHECK and EXCLUDE constraints the
//! models do not define, identity, generated and domain-typed columns,
//! other functions, enum types nothing managed uses, views, sequences and
//! foreign tables.

use crate::migrate::catalog::{Catalog, CatalogTable, ConstraintType};

/// The function of the trigger that marks a table as created by tenant-model.
const TOUCH_FUNCTION: &str = "tenant_model_touch";

/// `live` limited to what autogenerate manages given `expected`, and a
/// line for each thing it leaves alone.
pub(super) fn managed(live: &Catalog, expected: &Catalog) -> (Catalog, Vec<String>) {
    let mut report = Vec::new();
    let mut out = Catalog::default();
    for (name, table) in &live.tables {
        let wanted = expected.tables.get(name);
        let ours = table.triggers.iter().any(|t| t.function == TOUCH_FUNCTION);
        if wanted.is_none() && !ours {
            report.push(format!(
                "table {name} is not defined by the models and was not created by tenant-model (it has no {TOUCH_FUNCTION} trigger): left alone"
            ));
            continue;
        }
        // A table the models dropped is kept whole: `down` restores it so.
        let table = match wanted {
            Some(wanted) => managed_table(table, wanted, &mut report),
            None => table.clone(),
        };
        out.tables.insert(name.clone(), table);
    }
    for (name, labels) in &live.enums {
        let used = out
            .tables
            .values()
            .flat_map(|t| &t.columns)
            .any(|c| c.enum_type.as_deref() == Some(name));
        if expected.enums.contains_key(name) || used {
            out.enums.insert(name.clone(), labels.clone());
        } else {
            report.push(format!(
                "enum type {name} is not defined by the models nor used by their tables: left alone"
            ));
        }
    }
    for (key, function) in &live.functions {
        if expected.functions.contains_key(key) {
            out.functions.insert(key.clone(), function.clone());
        } else {
            report.push(format!(
                "function {key} is not managed by tenant-model: left alone"
            ));
        }
    }
    for other in &live.others {
        report.push(format!(
            "{other} is not managed by tenant-model: left alone"
        ));
    }
    (out, report)
}

fn managed_table(
    table: &CatalogTable,
    wanted: &CatalogTable,
    report: &mut Vec<String>,
) -> CatalogTable {
    let name = &table.name;
    let mut out = table.clone();
    out.triggers.retain(|t| {
        let keep = t.function == TOUCH_FUNCTION || wanted.triggers.iter().any(|w| w.name == t.name);
        if !keep {
            report.push(format!(
                "trigger {} on {name} (calling {}) is not managed by tenant-model: left alone",
                t.name, t.function
            ));
        }
        keep
    });
    out.constraints.retain(|c| {
        let keep = !matches!(c.kind, ConstraintType::Check | ConstraintType::Exclusion)
            || wanted.constraints.iter().any(|w| w.name == c.name)
            || c.name.ends_with("_soft_delete_check");
        if !keep {
            report.push(format!(
                "constraint {} on {name} ({}) is not defined by the models: left alone",
                c.name, c.definition
            ));
        }
        keep
    });
    for column in &table.columns {
        if let Some(what) = &column.unmanaged {
            report.push(format!(
                "column {name}.{} is {what}: autogenerate leaves its type and default alone",
                column.name
            ));
        }
    }
    out
}
