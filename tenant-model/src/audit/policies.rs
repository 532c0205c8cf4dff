//! The policies a schema expects, normalized by the server, matched with
//! the live ones by what they say rather than by name.
//!
//! `pg_policies` shows a policy's expressions as PostgreSQL deparses them
//! (`pg_get_expr`): casts spelled out, parentheses added, `AS "nullif"`
//! labels on sub-selects. Rather than guess that form, the audit asks the
//! server for it: inside a transaction that is rolled back, it creates a
//! temporary table with each model table's columns and types, creates the
//! schema's policies on it, and reads them back with the same `pg_get_expr`.
//! Both sides are then deparsed by the same server, in the same session
//! (same `search_path`), from the same column names and types, so equal
//! rules compare equal whatever their spelling in the DDL. The application
//! role may do this: every role may create temporary tables by default,
//! and a table's owner may create policies on it. Nothing outlives the
//! rolled-back transaction.

use std::collections::HashMap;

use tokio_postgres::Transaction;

use crate::audit::catalog::CatalogPolicy;
use crate::error::Error;
use crate::model::record::decode;
use crate::schema::{Policy, Table};
use crate::sql::sql_text::ident;

/// A policy whose name matches the schema's but whose rule does not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyChange {
    /// What the schema creates, as the server normalizes it.
    pub expected: CatalogPolicy,
    /// What the table has.
    pub live: CatalogPolicy,
}

/// How a table's live policies differ from the schema's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PolicyDiff {
    pub(crate) missing: Vec<CatalogPolicy>,
    pub(crate) changed: Vec<PolicyChange>,
    pub(crate) extra: Vec<CatalogPolicy>,
}

/// The schema's policies of each table, as the server deparses them.
/// `tables` holds each table with its expected policies; the result has
/// the same shape.
pub(crate) async fn normalize(
    client: &mut Transaction<'_>,
    tables: &[(&Table, Vec<Policy>)],
) -> Result<Vec<Vec<CatalogPolicy>>, Error> {
    let scratch_policy = |t: usize, p: usize| format!("tm_audit_{t}_{p}");
    let mut ddl = String::new();
    for (t, (table, policies)) in tables.iter().enumerate() {
        if policies.is_empty() {
            continue;
        }
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("{} {}", ident(c.name), c.sql_type))
            .collect();
        ddl += &format!("CREATE TEMP TABLE tm_audit_{t} ({});\n", columns.join(", "));
        for (p, policy) in policies.iter().enumerate() {
            ddl += &policy.create_sql_on(
                &format!("pg_temp.tm_audit_{t}"),
                &scratch_policy(t, p),
                false,
            );
        }
    }
    let mut deparsed: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    if !ddl.is_empty() {
        let tx = client.transaction().await?;
        tx.batch_execute(&ddl).await?;
        let rows = tx
            .query(
                "SELECT p.polname::text, pg_get_expr(p.polqual, p.polrelid), \
                        pg_get_expr(p.polwithcheck, p.polrelid) \
                 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
                 WHERE c.relnamespace = pg_my_temp_schema()",
                &[],
            )
            .await?;
        tx.rollback().await?;
        for row in &rows {
            deparsed.insert(decode(row, 0)?, (decode(row, 1)?, decode(row, 2)?));
        }
    }
    tables
        .iter()
        .enumerate()
        .map(|(t, (_, policies))| {
            policies
                .iter()
                .enumerate()
                .map(|(p, policy)| {
                    let (using, with_check) =
                        deparsed.remove(&scratch_policy(t, p)).ok_or_else(|| {
                            Error::InvalidQuery(format!(
                                "the audit's scratch copy of policy {} is missing",
                                policy.name
                            ))
                        })?;
                    let mut roles = policy.roles.clone();
                    roles.sort();
                    Ok(CatalogPolicy {
                        name: policy.name.clone(),
                        command: policy.command,
                        permissive: true,
                        roles,
                        using,
                        with_check,
                    })
                })
                .collect()
        })
        .collect()
}

/// Matches live policies with expected ones by their rule (command,
/// permissiveness, roles, expressions), not their name: a renamed but
/// identical policy is no finding. What is left over is paired by name
/// where it can be (a policy edited in place), else reported as missing
/// (expected) or extra (live).
pub(crate) fn diff(expected: Vec<CatalogPolicy>, live: Vec<CatalogPolicy>) -> PolicyDiff {
    let mut live = live;
    let mut unmatched = Vec::new();
    for policy in expected {
        match live.iter().position(|l| l.same_rule(&policy)) {
            Some(i) => drop(live.remove(i)),
            None => unmatched.push(policy),
        }
    }
    let mut diff = PolicyDiff::default();
    for policy in unmatched {
        match live.iter().position(|l| l.name == policy.name) {
            Some(i) => diff.changed.push(PolicyChange {
                expected: policy,
                live: live.remove(i),
            }),
            None => diff.missing.push(policy),
        }
    }
    diff.extra = live;
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PolicyCommand;

    fn policy(name: &str, using: &str) -> CatalogPolicy {
        CatalogPolicy {
            name: name.into(),
            command: PolicyCommand::All,
            permissive: true,
            roles: Vec::new(),
            using: Some(using.into()),
            with_check: Some(using.into()),
        }
    }

    #[test]
    fn policies_match_by_rule_not_name() {
        let diff = diff(vec![policy("a", "x")], vec![policy("renamed", "x")]);
        assert_eq!(diff, PolicyDiff::default());
    }

    #[test]
    fn leftovers_pair_by_name_else_are_missing_or_extra() {
        let diff = diff(
            vec![policy("a", "x"), policy("b", "y")],
            vec![policy("a", "true"), policy("c", "true")],
        );
        assert_eq!(
            diff.changed,
            [PolicyChange {
                expected: policy("a", "x"),
                live: policy("a", "true")
            }]
        );
        assert_eq!(diff.missing, [policy("b", "y")]);
        assert_eq!(diff.extra, [policy("c", "true")]);
    }

    #[test]
    fn a_restrictive_twin_is_not_a_match() {
        let mut restrictive = policy("a", "x");
        restrictive.permissive = false;
        let diff = diff(vec![policy("a", "x")], vec![restrictive.clone()]);
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].live, restrictive);
    }
}
