//! Checking that row-level security holds: the connecting role, and the
//! live catalog against a [`Schema`].
//!
//! Row-level security protects tenants only from roles it applies to. It
//! never applies to a superuser or a role with `BYPASSRLS`; a table's owner
//! (and any member of the owner's role) can switch it off or rewrite the
//! policies; and it says nothing about `TRUNCATE`, about views that run as
//! their owner, or about policies someone added or edited by hand. Two
//! checks cover this:
//!
//! - **At connect.** [`crate::Db::connect`] and [`crate::Db::from_pool`]
//!   read the pool's login role once, with one query on the first
//!   connection ([`ConnectionRole`]), and refuse it with
//!   [`crate::Error::UnsafeRole`] when it can escape row-level security
//!   ([`RoleEscape`]): a superuser, `BYPASSRLS`, a member of a role with
//!   either, a member of a role that reads the server's files, the owner of
//!   a table under RLS or a member of its role, or `CREATEROLE` before
//!   PostgreSQL 16. The login role (`session_user`) is what counts: `SET
//!   ROLE` and `RESET ROLE` move only among the roles it is a member of.
//!   [`crate::Db::insecure_allow_rls_bypass`] is the opt-out for local
//!   development; it logs a warning.
//! - **On demand.** [`crate::Db::audit`] reads the live catalog and returns
//!   an [`AuditReport`]: the connecting role (as above); the server version
//!   (PostgreSQL 15 or later, [`MIN_SERVER_VERSION_NUM`]); for each model
//!   table, that it exists, has row-level security enabled and forced, has
//!   exactly the schema's policies — compared by their normalized
//!   expressions, command, roles and permissiveness, not by name (see
//!   below) — and that no role but its owner holds `TRUNCATE`; that no
//!   view over a tenant table (directly or through other views) runs as
//!   its owner instead of being `security_invoker`, and that no
//!   materialized view stores tenant rows; and that the schema's
//!   application and admin roles exist with neither `SUPERUSER` nor
//!   `BYPASSRLS`.
//!
//! Policies are compared as the server deparses them (`pg_get_expr`, what
//! `pg_policies` shows): the audit creates the schema's policies on a
//! temporary copy of each table inside a transaction it rolls back, and
//! reads them back the same way, so the same rule compares equal however
//! it was spelled. A policy that differs is reported as changed when its
//! name matches one of the schema's, else as missing or extra.
//!
//! Not checked: `SECURITY DEFINER` functions that read tenant tables, and
//! grants other than `TRUNCATE`.
//!
//! ```no_run
//! # async fn f() -> Result<(), tenant_model::Error> {
//! use tenant_model::{Db, Schema};
//!
//! let db = Db::connect("postgres://app@localhost/saas").await?; // refuses a superuser
//! let report = db.audit(&Schema::new()).await?;
//! for finding in report.findings() {
//!     eprintln!("{finding}");
//! }
//! assert!(report.is_ok(), "{report}");
//! # Ok(()) }
//! ```

pub(crate) mod catalog;
pub(crate) mod policies;
mod report;
mod role;

pub use catalog::{CatalogPolicy, GroupRole, UnsafeView};
pub use policies::PolicyChange;
pub use report::{AuditReport, Finding, TableReport, MIN_SERVER_VERSION_NUM};
pub use role::{ConnectionRole, Membership, OwnedTable, RoleEscape};

pub(crate) use role::UNSAFE_ROLE_ADVICE;

use std::collections::HashMap;

use tokio_postgres::Client;

use crate::error::Error;
use crate::model::Scope;
use crate::schema::{Policy, Schema, Table};

/// Audits the database `client` is connected to against `schema`.
pub(crate) async fn run(client: &mut Client, schema: &Schema) -> Result<AuditReport, Error> {
    let tables = schema.tables();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let groups = [schema.app_role_name(), schema.admin_role_name()];
    // One transaction (rolled back at the end) for every catalog query:
    // the driver's statements then never outlive it, which a
    // transaction-mode pooler needs.
    let mut tx = client.transaction().await?;
    let shared = &tx;
    let (role, (server_version_num, server_version), live, group_roles) = tokio::try_join!(
        ConnectionRole::query(shared),
        catalog::server_version(shared),
        catalog::tables(shared, &names),
        catalog::group_roles(shared, &groups),
    )?;

    // The tables under row-level security that exist.
    let guarded: Vec<(&Table, u32)> = tables
        .iter()
        .zip(&live)
        .filter(|(table, _)| table.scope != Scope::Global)
        .filter_map(|(table, live)| live.oid.map(|oid| (table, oid)))
        .collect();
    let oids: Vec<u32> = guarded.iter().map(|(_, oid)| *oid).collect();
    let (live_policies, unsafe_views) = tokio::try_join!(
        catalog::policies(shared, &oids),
        catalog::unsafe_views(shared, &oids),
    )?;
    let mut live_policies = group_by_table(live_policies);
    let all_expected = schema.policies();
    let expected: Vec<(&Table, Vec<Policy>)> = guarded
        .iter()
        .map(|(table, _)| {
            let own = all_expected.iter().filter(|p| p.table == table.name);
            (*table, own.cloned().collect())
        })
        .collect();
    let normalized = policies::normalize(&mut tx, &expected).await?;
    let mut expected_policies: HashMap<u32, Vec<CatalogPolicy>> =
        oids.iter().copied().zip(normalized).collect();

    let mut reports = Vec::with_capacity(tables.len());
    for (table, live) in tables.iter().zip(live) {
        let diff = match live.oid {
            Some(oid) if table.scope != Scope::Global => policies::diff(
                expected_policies.remove(&oid).unwrap_or_default(),
                live_policies.remove(&oid).unwrap_or_default(),
            ),
            _ => Default::default(),
        };
        reports.push(TableReport {
            table: table.name.to_owned(),
            scope: table.scope,
            exists: live.oid.is_some(),
            rls_enabled: live.rls_enabled,
            rls_forced: live.rls_forced,
            missing_policies: diff.missing,
            changed_policies: diff.changed,
            extra_policies: diff.extra,
            truncate_grantees: live.truncate_grantees,
        });
    }
    tx.rollback().await?;
    Ok(AuditReport {
        role,
        server_version_num,
        server_version,
        tables: reports,
        unsafe_views,
        group_roles,
    })
}

/// `(table oid, policy)` pairs grouped by table.
fn group_by_table(policies: Vec<(u32, CatalogPolicy)>) -> HashMap<u32, Vec<CatalogPolicy>> {
    let mut by_table: HashMap<u32, Vec<CatalogPolicy>> = HashMap::new();
    for (oid, policy) in policies {
        by_table.entry(oid).or_default().push(policy);
    }
    by_table
}
