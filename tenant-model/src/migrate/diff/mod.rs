//! From two catalogs to the ordered statements that turn one into the other.
//!
//! [`plan`] compares a `from` catalog with a `to` catalog (both already
//! limited to what autogenerate manages) and returns statements in
//! dependency order: enum values, new types and functions; then what goes
//! away (policies and triggers, foreign keys, other keys and indexes,
//! tables); then columns (with enum types recreated around them); then
//! what is new (tables, keys and indexes, foreign keys after the tables
//! they target, triggers, row-level security, policies, grants); unused
//! enum types last. The same function gives the `down` migration with the
//! two catalogs swapped.

mod enums;
mod matching;
mod render;
mod table;
mod types;

pub(crate) use enums::only_adds;

use crate::migrate::catalog::{Catalog, CatalogTable};
use crate::Schema;

/// Where a statement goes in a migration; statements run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// `ALTER TYPE ... ADD VALUE` (its own migration).
    EnumValues,
    /// New enum types, the trigger function.
    Types,
    /// Policies and triggers that go or change.
    DropSecurity,
    /// Foreign keys that go or change.
    DropForeignKeys,
    /// Other keys and indexes that go or change.
    DropKeys,
    /// Tables that go.
    DropTables,
    /// Enum types recreated: the old one renamed, the new one created.
    RecreateEnums,
    /// Columns dropped, changed, added.
    Columns,
    /// Columns moved to a recreated enum type, the old type dropped.
    ConvertEnums,
    /// New tables.
    CreateTables,
    /// Keys and indexes added or renamed.
    AddKeys,
    /// Foreign keys added.
    AddForeignKeys,
    /// Triggers, row-level security, policies, grants, comments.
    Security,
    /// Enum types and functions no longer used.
    DropTypes,
}

/// Which way a plan goes: `Up` towards the models, `Down` back to the live
/// schema (what `Down` adds was dropped by `up`, so it comes back empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// How new labels of an existing enum are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumMode {
    /// `ALTER TYPE ... ADD VALUE` in [`Phase::EnumValues`].
    AddValue,
    /// Recreate the type, like any other change of its labels.
    Recreate,
}

/// One statement of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) phase: Phase,
    /// The statement, ending in `;`.
    pub(crate) sql: String,
    /// What data it loses, when it is destructive.
    pub(crate) destructive: Option<String>,
    /// A comment written above it.
    pub(crate) note: Option<String>,
}

/// The statements turning `from` into `to`, in run order. `source`, when
/// given, renders new tables exactly as [`Schema::create_sql`] does.
pub(crate) fn plan(
    from: &Catalog,
    to: &Catalog,
    mode: EnumMode,
    direction: Direction,
    source: Option<&Schema>,
) -> Vec<Step> {
    let mut planner = Planner {
        from,
        to,
        direction,
        steps: Vec::new(),
        recreated: Vec::new(),
    };
    planner.enums(mode);
    planner.functions();
    planner.tables(source);
    planner.steps.sort_by_key(|s| s.phase);
    planner.steps
}

struct Planner<'a> {
    from: &'a Catalog,
    to: &'a Catalog,
    direction: Direction,
    steps: Vec<Step>,
    /// Enum types recreated by this plan.
    recreated: Vec<String>,
}

impl Planner<'_> {
    fn push(&mut self, phase: Phase, sql: String) {
        self.steps.push(Step {
            phase,
            sql,
            destructive: None,
            note: None,
        });
    }

    fn push_destructive(&mut self, phase: Phase, sql: String, what: String) {
        self.steps.push(Step {
            phase,
            sql,
            destructive: Some(what),
            note: None,
        });
    }

    fn push_noted(&mut self, phase: Phase, sql: String, note: String) {
        self.steps.push(Step {
            phase,
            sql,
            destructive: None,
            note: Some(note),
        });
    }

    fn functions(&mut self) {
        for (key, function) in &self.to.functions {
            if self.from.functions.get(key) != Some(function) {
                self.push(Phase::Types, format!("{};", function.definition));
            }
        }
        for key in self.from.functions.keys() {
            if !self.to.functions.contains_key(key) {
                self.push(Phase::DropTypes, format!("DROP FUNCTION {key};"));
            }
        }
    }

    fn tables(&mut self, source: Option<&Schema>) {
        let dropped: Vec<&str> = self
            .from
            .tables
            .keys()
            .filter(|t| !self.to.tables.contains_key(*t))
            .map(String::as_str)
            .collect();
        if !dropped.is_empty() {
            let names = render::idents(dropped.iter().copied());
            // One statement: tables that reference each other go together.
            self.push_destructive(
                Phase::DropTables,
                format!("DROP TABLE {names};"),
                format!("drop table {} (and its rows)", dropped.join(", ")),
            );
        }
        let from = self.from;
        let to = self.to;
        for (name, table) in &to.tables {
            if let Some(old) = from.tables.get(name) {
                self.table(old, table);
            }
        }
        let created: Vec<&CatalogTable> = to
            .tables
            .values()
            .filter(|t| !from.tables.contains_key(&t.name))
            .collect();
        let rendered = source.map_or_else(Vec::new, |schema| self.schema_tables(schema, &created));
        for table in created {
            if !rendered.contains(&table.name.as_str()) {
                self.catalog_table(table);
            }
        }
    }

    /// New tables rendered by the schema emitter, in foreign-key order;
    /// returns the names of the tables it rendered.
    fn schema_tables(&mut self, schema: &Schema, created: &[&CatalogTable]) -> Vec<&'static str> {
        let tables: Vec<crate::schema::Table> = schema
            .tables()
            .into_iter()
            .filter(|t| created.iter().any(|c| c.name == t.name))
            .collect();
        for (i, table) in tables.iter().enumerate() {
            let later: Vec<&str> = tables[i + 1..].iter().map(|t| t.name).collect();
            let mut sql = table.create_sql(&later);
            sql += &table.indexes_sql();
            sql += &crate::schema::security::table_security_sql(
                table,
                schema.app_role_name(),
                schema.admin_role_name(),
                schema.emits_for(),
            );
            self.push(Phase::CreateTables, sql.trim_end().to_owned());
            let deferred = table.deferred_foreign_keys_sql(&later);
            if !deferred.is_empty() {
                self.push(Phase::AddForeignKeys, deferred.trim_end().to_owned());
            }
        }
        tables.iter().map(|t| t.name).collect()
    }

    /// A new table rendered from the catalog: `CREATE TABLE` with its
    /// columns and keys, then everything else as changes from that.
    fn catalog_table(&mut self, table: &CatalogTable) {
        let bare = render::bare_table(table);
        let sql = render::create_table(&bare);
        match self.direction {
            Direction::Up => self.push(Phase::CreateTables, sql),
            Direction::Down => self.push_noted(
                Phase::CreateTables,
                sql,
                "restores the table without its rows".to_owned(),
            ),
        }
        self.table(&bare, table);
    }
}
