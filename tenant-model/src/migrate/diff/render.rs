//! Catalog objects back to DDL.

use crate::audit::CatalogPolicy;
use crate::migrate::catalog::{CatalogColumn, CatalogTable, ConstraintType, Grant};
use crate::schema::PolicyCommand;
use crate::sql::sql_text::{ident, literal};

/// `a, b, "c d"`.
pub(super) fn idents<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(ident).collect::<Vec<_>>().join(", ")
}

/// The table with only what `CREATE TABLE` creates: its columns and the
/// constraints other than foreign keys (added once every table exists).
pub(super) fn bare_table(table: &CatalogTable) -> CatalogTable {
    let mut bare = table.clone();
    bare.constraints
        .retain(|c| c.kind != ConstraintType::ForeignKey);
    bare.indexes.clear();
    bare.rls_enabled = false;
    bare.rls_forced = false;
    bare.policies.clear();
    bare.grants.clear();
    bare.triggers.clear();
    bare.comment = None;
    bare
}

/// `CREATE TABLE` with the table's columns and constraints.
pub(super) fn create_table(table: &CatalogTable) -> String {
    let lines: Vec<String> = table
        .columns
        .iter()
        .map(column)
        .chain(
            table
                .constraints
                .iter()
                .map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition)),
        )
        .collect();
    format!(
        "CREATE TABLE {} (\n    {}\n);",
        ident(&table.name),
        lines.join(",\n    ")
    )
}

/// `name type [NOT NULL] [DEFAULT ...]`.
pub(super) fn column(column: &CatalogColumn) -> String {
    let mut sql = format!("{} {}", ident(&column.name), column.sql_type);
    if !column.nullable {
        sql += " NOT NULL";
    }
    if let Some(default) = &column.default {
        sql += " DEFAULT ";
        sql += default;
    }
    sql
}

/// `CREATE POLICY` for a policy as the catalog shows it.
pub(super) fn create_policy(table: &str, policy: &CatalogPolicy) -> String {
    let mut sql = format!("CREATE POLICY {} ON {}", ident(&policy.name), ident(table));
    if !policy.permissive {
        sql += " AS RESTRICTIVE";
    }
    if policy.command != PolicyCommand::All {
        sql += &format!(" FOR {}", policy.command);
    }
    if !policy.roles.is_empty() {
        sql += &format!(" TO {}", idents(policy.roles.iter().map(String::as_str)));
    }
    if let Some(using) = &policy.using {
        sql += &format!("\n    USING ({using})");
    }
    if let Some(check) = &policy.with_check {
        sql += &format!("\n    WITH CHECK ({check})");
    }
    sql + ";"
}

fn grantee(grant: &Grant) -> String {
    if grant.grantee == "PUBLIC" {
        "PUBLIC".to_owned()
    } else {
        ident(&grant.grantee).into_owned()
    }
}

fn privilege(grant: &Grant) -> String {
    match &grant.column {
        Some(column) => format!("{} ({})", grant.privilege, ident(column)),
        None => grant.privilege.clone(),
    }
}

/// The privileges of `grants` by role (and grant option), in order:
/// `SELECT, UPDATE (name)`.
fn by_role<'a>(grants: &[&'a Grant]) -> Vec<(&'a Grant, String)> {
    let mut groups: Vec<(&'a Grant, Vec<String>)> = Vec::new();
    for grant in grants {
        match groups
            .iter_mut()
            .find(|(g, _)| g.grantee == grant.grantee && g.grantable == grant.grantable)
        {
            Some((_, privileges)) => privileges.push(privilege(grant)),
            None => groups.push((grant, vec![privilege(grant)])),
        }
    }
    groups
        .into_iter()
        .map(|(g, privileges)| (g, privileges.join(", ")))
        .collect()
}

/// `GRANT ... ON table TO role`, one statement per role.
pub(super) fn grants(table: &str, grants: &[&Grant]) -> Vec<String> {
    by_role(grants)
        .into_iter()
        .map(|(grant, privileges)| {
            format!(
                "GRANT {privileges} ON {} TO {}{};",
                ident(table),
                grantee(grant),
                if grant.grantable {
                    " WITH GRANT OPTION"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// `REVOKE ... ON table FROM role`, one statement per role.
pub(super) fn revokes(table: &str, grants: &[&Grant]) -> Vec<String> {
    by_role(grants)
        .into_iter()
        .map(|(grant, privileges)| {
            format!(
                "REVOKE {privileges} ON {} FROM {};",
                ident(table),
                grantee(grant)
            )
        })
        .collect()
}

/// `COMMENT ON TABLE ... IS ...`.
pub(super) fn comment(table: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON TABLE {} IS {};",
        ident(table),
        comment.map_or_else(|| "NULL".to_owned(), literal)
    )
}

/// `CREATE TYPE ... AS ENUM (...)`.
pub(super) fn create_enum(name: &str, labels: &[String]) -> String {
    let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        ident(name),
        labels.join(", ")
    )
}
