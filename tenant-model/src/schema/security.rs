//! Row-level security, triggers and grants.
//!
//! Policies read the tenant context fail-closed (DESIGN.md section 3): the
//! setting is read with `missing_ok`, an empty value (what a local
//! `set_config` leaves behind in a pooled session) becomes NULL, and
//! `tenant_id = NULL` matches nothing. The read is wrapped in `(SELECT ...)`
//! so PostgreSQL evaluates it once per statement, not once per row.
//!
//! Citus refuses a sub-select in a policy on a distributed table
//! (`unexpected non-SELECT command in SubLink`), so for [`Target::Citus`]
//! the same expressions are written bare: still fail closed, evaluated per
//! row (`current_setting` is stable, so the planner may still fold it).

use crate::model::Scope;
use crate::schema::names;
use crate::schema::policy::{Policy, PolicyCommand};
use crate::schema::table::Table;
use crate::schema::target::Target;
use crate::sql::sql_text::{ident, literal};

/// The setting that carries the tenant id, set per transaction.
pub const TENANT_SETTING: &str = "app.tenant_id";
/// The setting the admin scope turns on for its transactions.
pub const ADMIN_SETTING: &str = "app.is_superuser";

/// The current tenant, or NULL when there is no (or an empty) context.
pub(crate) fn current_tenant(target: Target) -> String {
    let read = format!("NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid");
    evaluated_once(read, target)
}

/// Whether the admin flag is on; anything unset or empty reads as off.
fn admin_flag(target: Target) -> String {
    let read =
        format!("coalesce(nullif(current_setting('{ADMIN_SETTING}', true), ''), 'off')::boolean");
    evaluated_once(read, target)
}

/// `(SELECT expr)` where the target accepts a sub-select in a policy.
fn evaluated_once(expr: String, target: Target) -> String {
    match target {
        Target::Postgres => format!("(SELECT {expr})"),
        Target::Citus => expr,
    }
}

/// The roles, created when missing, without login: deployments grant them
/// to login roles (or `ALTER ROLE ... LOGIN PASSWORD ...`).
pub(crate) fn roles_sql(app: &str, admin: &str) -> String {
    let create = |role: &str, what: &str| {
        format!(
            "-- {what}\nDO $$\nBEGIN\n    CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS;\nEXCEPTION WHEN duplicate_object OR unique_violation THEN\n    NULL;\nEND\n$$;\n",
            ident(role)
        )
    };
    format!(
        "{}\n{}",
        create(app, "The application role: tenant isolation applies to it."),
        create(
            admin,
            "The admin role: the only role the cross-tenant policies apply to."
        )
    )
}

/// The shared trigger function that keeps `updated_at` current and
/// `created_at` unchanged, also for raw SQL updates.
pub(crate) fn functions_sql() -> &'static str {
    "CREATE OR REPLACE FUNCTION tenant_model_touch() RETURNS trigger\n    LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.created_at := OLD.created_at;\n    NEW.updated_at := clock_timestamp();\n    RETURN NEW;\nEND\n$$;\n"
}

/// The policies of one table, in the order the DDL creates them: none for
/// a global table.
pub(crate) fn table_policies(table: &Table, admin: &str, target: Target) -> Vec<Policy> {
    let policy =
        |suffix: &str, command, roles: Vec<String>, using: &str, check: Option<&str>| Policy {
            table: table.name,
            name: names::join(&[table.name, suffix]),
            command,
            roles,
            using: Some(using.to_owned()),
            with_check: check.map(str::to_owned),
        };
    let flag = admin_flag(target);
    let admin_policy = policy(
        "admin_access",
        PolicyCommand::All,
        vec![admin.to_owned()],
        &flag,
        Some(&flag),
    );
    match table.scope {
        Scope::Tenant => {
            let own = format!("tenant_id = {}", current_tenant(target));
            vec![
                policy(
                    "tenant_isolation",
                    PolicyCommand::All,
                    Vec::new(),
                    &own,
                    Some(&own),
                ),
                admin_policy,
            ]
        }
        Scope::Root => {
            // A tenant reads and renames its own row; creating, listing and
            // deleting tenants (and switching them off) is admin work.
            let own = format!("id = {}", current_tenant(target));
            vec![
                policy(
                    "own_row_select",
                    PolicyCommand::Select,
                    Vec::new(),
                    &own,
                    None,
                ),
                policy(
                    "own_row_update",
                    PolicyCommand::Update,
                    Vec::new(),
                    &own,
                    Some(&own),
                ),
                admin_policy,
            ]
        }
        Scope::Global => Vec::new(),
    }
}

/// The trigger, RLS, policies and grants of one table. Citus refuses
/// triggers on distributed tables: there the library's own statements set
/// `updated_at`, and no trigger is created.
pub(crate) fn table_security_sql(table: &Table, app: &str, admin: &str, target: Target) -> String {
    let name = ident(table.name);
    let mut sql = match target {
        Target::Postgres => format!(
            "CREATE TRIGGER {} BEFORE UPDATE ON {name}\n    FOR EACH ROW EXECUTE FUNCTION tenant_model_touch();\n",
            ident(&names::join(&[table.name, "touch"]))
        ),
        Target::Citus => String::new(),
    };
    let (app_role, admin_role) = (ident(app), ident(admin));
    if table.scope != Scope::Global {
        sql += &format!(
            "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n"
        );
    }
    for policy in table_policies(table, admin, target) {
        sql += &policy.create_sql();
    }
    match table.scope {
        Scope::Tenant => {
            sql += &format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {app_role}, {admin_role};\n"
            );
        }
        Scope::Root => {
            // A tenant reads and renames its own row (the policies above);
            // creating, listing and deleting tenants (and switching them off)
            // is admin work. So is changing a slug: slugs are unique across
            // tenants, so a tenant trying another's slug would learn that it
            // exists (a unique violation), and could squat free ones.
            sql += &format!(
                "GRANT SELECT, UPDATE ({}) ON {name} TO {app_role};\n",
                ident("name")
            );
            sql += &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {admin_role};\n");
        }
        Scope::Global => {
            sql += &format!(
                "COMMENT ON TABLE {name} IS {};\n",
                literal("Global: shared by all tenants, not isolated; the application role may only read it.")
            );
            sql += &format!("GRANT SELECT ON {name} TO {app_role};\n");
            sql += &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {admin_role};\n");
        }
    }
    sql
}
