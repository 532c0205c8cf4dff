//! Row-level security, triggers and grants.
//!
//! Policies read the tenant context fail-closed (DESIGN.md section 3): the
//! setting is read with `missing_ok`, an empty value (what a local
//! `set_config` leaves behind in a pooled session) becomes NULL, and
//! `tenant_id = NULL` matches nothing. The read is wrapped in `(SELECT ...)`
//! so PostgreSQL evaluates it once per statement, not once per row.

use crate::model::Scope;
use crate::schema::names;
use crate::schema::table::Table;
use crate::sql_text::{ident, literal};

/// The setting that carries the tenant id, set per transaction.
pub const TENANT_SETTING: &str = "app.tenant_id";
/// The setting the admin scope turns on for its transactions.
pub const ADMIN_SETTING: &str = "app.is_superuser";

/// The current tenant, or NULL when there is no (or an empty) context.
pub(crate) fn current_tenant() -> String {
    format!("(SELECT NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid)")
}

/// Whether the admin flag is on; anything unset or empty reads as off.
fn admin_flag() -> String {
    format!(
        "(SELECT coalesce(nullif(current_setting('{ADMIN_SETTING}', true), ''), 'off')::boolean)"
    )
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

/// The trigger, RLS, policies and grants of one table.
pub(crate) fn table_security_sql(table: &Table, app: &str, admin: &str) -> String {
    let name = ident(table.name);
    let mut sql = format!(
        "CREATE TRIGGER {} BEFORE UPDATE ON {name}\n    FOR EACH ROW EXECUTE FUNCTION tenant_model_touch();\n",
        ident(&names::join(&[table.name, "touch"]))
    );
    let policy = |suffix: &str| ident(&names::join(&[table.name, suffix])).into_owned();
    let (app_role, admin_role) = (ident(app), ident(admin));
    let admin_policy = format!(
        "CREATE POLICY {} ON {name} TO {admin_role}\n    USING ({flag})\n    WITH CHECK ({flag});\n",
        policy("admin_access"),
        flag = admin_flag()
    );
    let enable_rls =
        format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;\n");
    match table.scope {
        Scope::Tenant => {
            let own = format!("(tenant_id = {})", current_tenant());
            sql += &enable_rls;
            sql += &format!(
                "CREATE POLICY {} ON {name}\n    USING {own}\n    WITH CHECK {own};\n",
                policy("tenant_isolation")
            );
            sql += &admin_policy;
            sql += &format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {app_role}, {admin_role};\n"
            );
        }
        Scope::Root => {
            // A tenant reads and renames its own row; creating, listing and
            // deleting tenants (and switching them off) is admin work. So is
            // changing a slug: slugs are unique across tenants, so a tenant
            // trying another's slug would learn that it exists (a unique
            // violation), and could squat free ones.
            let own = format!("(id = {})", current_tenant());
            sql += &enable_rls;
            sql += &format!(
                "CREATE POLICY {} ON {name} FOR SELECT\n    USING {own};\n",
                policy("own_row_select")
            );
            sql += &format!(
                "CREATE POLICY {} ON {name} FOR UPDATE\n    USING {own}\n    WITH CHECK {own};\n",
                policy("own_row_update")
            );
            sql += &admin_policy;
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
