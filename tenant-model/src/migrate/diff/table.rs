//! One table that exists on both sides: columns, keys, indexes, triggers,
//! row-level security, policies, grants and its comment.

use super::matching::match_objects;
use super::render;
use super::types::is_widening;
use super::{Direction, Phase, Planner};
use crate::migrate::catalog::{
    CatalogColumn, CatalogConstraint, CatalogIndex, CatalogTable, ConstraintType, Grant,
};
use crate::sql::sql_text::ident;

impl Planner<'_> {
    /// The changes that turn table `from` into table `to` (same name).
    pub(super) fn table(&mut self, from: &CatalogTable, to: &CatalogTable) {
        self.columns(from, to);
        self.constraints(from, to);
        self.indexes(from, to);
        self.triggers(from, to);
        self.row_security(from, to);
        self.policies(from, to);
        self.grants(from, to);
        if from.comment != to.comment {
            self.push(
                Phase::Security,
                render::comment(&to.name, to.comment.as_deref()),
            );
        }
    }

    fn columns(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let table = ident(&to.name);
        for column in &from.columns {
            if to.column(&column.name).is_none() {
                self.push_destructive(
                    Phase::Columns,
                    format!("ALTER TABLE {table} DROP COLUMN {};", ident(&column.name)),
                    format!("drop column {}.{} (and its values)", to.name, column.name),
                );
            }
        }
        for new in &to.columns {
            match from.column(&new.name) {
                Some(old) => self.column(&to.name, old, new),
                None => self.add_column(&to.name, new),
            }
        }
    }

    fn add_column(&mut self, table: &str, column: &CatalogColumn) {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {};",
            ident(table),
            render::column(column)
        );
        let note = match self.direction {
            Direction::Down => Some("restores the column without its values".to_owned()),
            Direction::Up if !column.nullable && column.default.is_none() => Some(
                "NOT NULL without a default: fails if the table has rows (add a default, or backfill in a separate step)".to_owned(),
            ),
            Direction::Up => None,
        };
        match note {
            Some(note) => self.push_noted(Phase::Columns, sql, note),
            None => self.push(Phase::Columns, sql),
        }
    }

    fn column(&mut self, table: &str, old: &CatalogColumn, new: &CatalogColumn) {
        if old.unmanaged.is_some() || new.unmanaged.is_some() {
            return;
        }
        let alter = format!(
            "ALTER TABLE {} ALTER COLUMN {}",
            ident(table),
            ident(&new.name)
        );
        let converted = self.converted(old) && self.converted(new);
        let mut default_done = converted;
        if old.sql_type != new.sql_type && !converted {
            if old.default.is_some() {
                self.push(Phase::Columns, format!("{alter} DROP DEFAULT;"));
            }
            let sql = if is_widening(&old.sql_type, &new.sql_type) {
                format!("{alter} TYPE {};", new.sql_type)
            } else {
                let via = match (&old.enum_type, &new.enum_type, new.sql_type.ends_with("[]")) {
                    (None, None, _) => String::new(),
                    (_, _, true) => "::text[]".to_owned(),
                    (_, _, false) => "::text".to_owned(),
                };
                format!(
                    "{alter} TYPE {ty} USING {}{via}::{ty};",
                    ident(&new.name),
                    ty = new.sql_type
                )
            };
            if is_widening(&old.sql_type, &new.sql_type) {
                self.push(Phase::Columns, sql);
            } else {
                self.push_destructive(
                    Phase::Columns,
                    sql,
                    format!(
                        "change column {table}.{} from {} to {} (values that do not convert make the migration fail; converted ones may lose detail)",
                        new.name, old.sql_type, new.sql_type
                    ),
                );
            }
            if let Some(default) = &new.default {
                self.push(Phase::Columns, format!("{alter} SET DEFAULT {default};"));
            }
            default_done = true;
        }
        if old.nullable != new.nullable {
            if new.nullable {
                self.push(Phase::Columns, format!("{alter} DROP NOT NULL;"));
            } else {
                self.push_noted(
                    Phase::Columns,
                    format!("{alter} SET NOT NULL;"),
                    "fails if a row holds NULL in this column: backfill first".to_owned(),
                );
            }
        }
        if !default_done && old.default != new.default {
            let sql = match &new.default {
                Some(default) => format!("{alter} SET DEFAULT {default};"),
                None => format!("{alter} DROP DEFAULT;"),
            };
            self.push(Phase::Columns, sql);
        }
    }

    fn constraints(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let table = ident(&to.name);
        let matched = match_objects(
            &from.constraints,
            &to.constraints,
            |c: &CatalogConstraint| c.name.as_str(),
            |a, b| a.kind == b.kind && a.definition == b.definition,
            |c| self.mentions_recreated(&c.definition),
        );
        for (old, new) in matched.renamed {
            self.push(
                Phase::AddKeys,
                format!(
                    "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
                    ident(&old.name),
                    ident(&new.name)
                ),
            );
        }
        for old in matched.dropped {
            let phase = if old.kind == ConstraintType::ForeignKey {
                Phase::DropForeignKeys
            } else {
                Phase::DropKeys
            };
            self.push(
                phase,
                format!("ALTER TABLE {table} DROP CONSTRAINT {};", ident(&old.name)),
            );
        }
        for new in matched.added {
            let phase = if new.kind == ConstraintType::ForeignKey {
                Phase::AddForeignKeys
            } else {
                Phase::AddKeys
            };
            self.push(
                phase,
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {} {};",
                    ident(&new.name),
                    new.definition
                ),
            );
        }
    }

    fn indexes(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let matched = match_objects(
            &from.indexes,
            &to.indexes,
            |i: &CatalogIndex| i.name.as_str(),
            |a, b| a.unique == b.unique && a.shape() == b.shape(),
            |i| self.mentions_recreated(&i.definition),
        );
        for (old, new) in matched.renamed {
            self.push(
                Phase::AddKeys,
                format!(
                    "ALTER INDEX {} RENAME TO {};",
                    ident(&old.name),
                    ident(&new.name)
                ),
            );
        }
        for old in matched.dropped {
            self.push(Phase::DropKeys, format!("DROP INDEX {};", ident(&old.name)));
        }
        for new in matched.added {
            self.push(Phase::AddKeys, format!("{};", new.definition));
        }
    }

    fn triggers(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let table = ident(&to.name);
        for old in &from.triggers {
            if to.triggers.iter().all(|t| t != old) {
                self.push(
                    Phase::DropSecurity,
                    format!("DROP TRIGGER {} ON {table};", ident(&old.name)),
                );
            }
        }
        for new in &to.triggers {
            if from.triggers.iter().all(|t| t != new) {
                self.push(Phase::Security, format!("{};", new.definition));
                if !new.enabled {
                    self.push(
                        Phase::Security,
                        format!("ALTER TABLE {table} DISABLE TRIGGER {};", ident(&new.name)),
                    );
                }
            }
        }
    }

    fn row_security(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let table = ident(&to.name);
        if from.rls_enabled != to.rls_enabled {
            let verb = if to.rls_enabled { "ENABLE" } else { "DISABLE" };
            self.push(
                Phase::Security,
                format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY;"),
            );
        }
        if from.rls_forced != to.rls_forced {
            let verb = if to.rls_forced { "FORCE" } else { "NO FORCE" };
            self.push(
                Phase::Security,
                format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY;"),
            );
        }
    }

    /// Policies are matched by rule (command, roles, normalized
    /// expressions), not by name: a policy renamed by hand is no change.
    fn policies(&mut self, from: &CatalogTable, to: &CatalogTable) {
        let diff = crate::audit::policies::diff(to.policies.clone(), from.policies.clone());
        let table = ident(&to.name);
        let drop = |name: &str| format!("DROP POLICY {} ON {table};", ident(name));
        for change in &diff.changed {
            self.push(Phase::DropSecurity, drop(&change.live.name));
            self.push(
                Phase::Security,
                render::create_policy(&to.name, &change.expected),
            );
        }
        for extra in &diff.extra {
            self.push(Phase::DropSecurity, drop(&extra.name));
        }
        for missing in &diff.missing {
            self.push(Phase::Security, render::create_policy(&to.name, missing));
        }
    }

    fn grants(&mut self, from: &CatalogTable, to: &CatalogTable) {
        // A column's privileges go with the column.
        let revoked: Vec<&Grant> = from
            .grants
            .iter()
            .filter(|g| g.column.as_ref().is_none_or(|c| to.column(c).is_some()))
            .filter(|g| !to.grants.contains(g))
            .collect();
        let granted: Vec<&Grant> = to
            .grants
            .iter()
            .filter(|g| !from.grants.contains(g))
            .collect();
        for sql in render::revokes(&to.name, &revoked)
            .into_iter()
            .chain(render::grants(&to.name, &granted))
        {
            self.push(Phase::Security, sql);
        }
    }
}
