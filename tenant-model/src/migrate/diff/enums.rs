//! Enum types: created, given new labels, recreated, dropped.
//!
//! New labels that keep the existing ones in their order are added with
//! `ALTER TYPE ... ADD VALUE ... BEFORE/AFTER` in [`Phase::EnumValues`]:
//! a value added that way cannot be used in the transaction that added it,
//! so those statements go into a migration of their own, committed first.
//! Any other change of the labels (one dropped, or reordered) recreates
//! the type: the old one is renamed, the new one created, every column of
//! it converted through `text`, the old one dropped. A row holding a
//! dropped label makes that conversion fail; dropping a label is
//! destructive.

use super::render::{self, idents};
use super::{EnumMode, Phase, Planner};
use crate::schema::names;
use crate::sql::sql_text::{ident, literal};

/// Whether `to` is `from` with labels added (and none moved or dropped).
pub(crate) fn only_adds(from: &[String], to: &[String]) -> bool {
    let mut rest = to.iter();
    from.iter().all(|label| rest.any(|t| t == label))
}

/// The name the old type has while a type is recreated.
fn old_name(name: &str) -> String {
    names::fit(format!("{name}_tm_old"))
}

/// Whether SQL text mentions type `name` in a cast (`'x'::user_role`).
pub(super) fn mentions_type(sql: &str, name: &str) -> bool {
    let cast = format!("::{}", ident(name));
    sql.match_indices(&cast).any(|(at, m)| {
        sql[at + m.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    })
}

impl Planner<'_> {
    pub(super) fn enums(&mut self, mode: EnumMode) {
        let (from, to) = (self.from, self.to);
        for (name, labels) in &to.enums {
            match from.enums.get(name) {
                None => self.push(Phase::Types, render::create_enum(name, labels)),
                Some(old) if old == labels => {}
                Some(old) if mode == EnumMode::AddValue && only_adds(old, labels) => {
                    self.add_values(name, labels);
                }
                Some(old) => self.recreate(name, old, labels),
            }
        }
        for name in from.enums.keys() {
            if !to.enums.contains_key(name) {
                self.push(Phase::DropTypes, format!("DROP TYPE {};", ident(name)));
            }
        }
    }

    fn add_values(&mut self, name: &str, labels: &[String]) {
        let old = &self.from.enums[name];
        for (i, label) in labels.iter().enumerate() {
            if old.contains(label) {
                continue;
            }
            let place = match i.checked_sub(1) {
                Some(prev) => format!(" AFTER {}", literal(&labels[prev])),
                None => labels
                    .get(1)
                    .map(|next| format!(" BEFORE {}", literal(next)))
                    .unwrap_or_default(),
            };
            self.push(
                Phase::EnumValues,
                format!(
                    "ALTER TYPE {} ADD VALUE {}{place};",
                    ident(name),
                    literal(label)
                ),
            );
        }
    }

    fn recreate(&mut self, name: &str, old: &[String], labels: &[String]) {
        self.recreated.push(name.to_owned());
        let old_type = old_name(name);
        let dropped: Vec<&String> = old.iter().filter(|l| !labels.contains(l)).collect();
        let rename = format!("ALTER TYPE {} RENAME TO {};", ident(name), ident(&old_type));
        if dropped.is_empty() {
            self.push(Phase::RecreateEnums, rename);
        } else {
            let lost: Vec<String> = dropped.iter().map(|l| literal(l)).collect();
            self.push_destructive(
                Phase::RecreateEnums,
                rename,
                format!(
                    "drop value {} of enum {name} (rows holding it make the migration fail)",
                    lost.join(", ")
                ),
            );
        }
        self.push(Phase::RecreateEnums, render::create_enum(name, labels));
        let (from, to) = (self.from, self.to);
        for (table_name, table) in &from.tables {
            let Some(target) = to.tables.get(table_name) else {
                continue;
            };
            for column in table
                .columns
                .iter()
                .filter(|c| c.enum_type.as_deref() == Some(name))
            {
                let Some(new) = target.column(&column.name) else {
                    continue;
                };
                if new.enum_type.as_deref() != Some(name) {
                    continue;
                }
                let alter = format!(
                    "ALTER TABLE {} ALTER COLUMN {}",
                    ident(table_name),
                    ident(&column.name)
                );
                if column.default.is_some() {
                    self.push(Phase::ConvertEnums, format!("{alter} DROP DEFAULT;"));
                }
                let text = if new.sql_type.ends_with("[]") {
                    "text[]"
                } else {
                    "text"
                };
                self.push(
                    Phase::ConvertEnums,
                    format!(
                        "{alter} TYPE {ty} USING {col}::{text}::{ty};",
                        ty = new.sql_type,
                        col = ident(&column.name)
                    ),
                );
                if let Some(default) = &new.default {
                    self.push(
                        Phase::ConvertEnums,
                        format!("{alter} SET DEFAULT {default};"),
                    );
                }
            }
        }
        self.push(
            Phase::ConvertEnums,
            format!("DROP TYPE {};", idents([old_type.as_str()])),
        );
    }

    /// Whether a column is converted by a recreated enum (then its type
    /// and default are set there, not by the column diff).
    pub(super) fn converted(&self, column: &crate::migrate::catalog::CatalogColumn) -> bool {
        column
            .enum_type
            .as_ref()
            .is_some_and(|e| self.recreated.contains(e))
    }

    /// Whether a definition must be rebuilt because it mentions a
    /// recreated enum type.
    pub(super) fn mentions_recreated(&self, sql: &str) -> bool {
        self.recreated.iter().any(|e| mentions_type(sql, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn additions_keep_order() {
        assert!(only_adds(&labels(&["a", "c"]), &labels(&["a", "b", "c"])));
        assert!(!only_adds(&labels(&["a", "c"]), &labels(&["c", "a", "b"])));
        assert!(!only_adds(&labels(&["a", "c"]), &labels(&["a", "b"])));
    }

    #[test]
    fn type_mentions() {
        assert!(mentions_type("(role = 'x'::user_role)", "user_role"));
        assert!(mentions_type("'{}'::user_role[]", "user_role"));
        assert!(!mentions_type("'x'::user_roles", "user_role"));
    }
}
