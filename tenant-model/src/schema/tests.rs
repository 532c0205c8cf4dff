//! The emitter's rules, checked on the SQL text (no database).

use crate::prelude::*;

#[derive(TenantModel)]
#[tenant_model(global, unique(code))]
struct Plan {
    #[tenant_model(primary_key)]
    id: Uuid,
    code: String,
}

#[derive(TenantModel)]
#[tenant_model(index(tags, using = "gin"), index(title), unique(title))]
struct Doc {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Plan)]
    plan_id: Uuid,
    #[tenant_model(references = Folder, on_delete = set_null)]
    folder_id: Option<Uuid>,
    title: String,
    tags: Vec<String>,
}

#[derive(TenantModel)]
struct Folder {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Doc)]
    cover_id: Option<Uuid>,
}

#[derive(TenantModel)]
#[tenant_model(soft_delete(by = Member), unique(email), unique(badge, include_deleted = true))]
struct Member {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(index)]
    email: String,
    badge: i32,
}

fn sql() -> String {
    Schema::new().model::<Doc>().model::<Member>().create_sql()
}

#[test]
fn tenant_tables_key_on_tenant_id_first_and_others_on_their_key() {
    let sql = sql();
    assert!(sql.contains("CONSTRAINT docs_pkey PRIMARY KEY (tenant_id, id),"));
    assert!(sql.contains("CONSTRAINT plans_pkey PRIMARY KEY (id),"));
    assert!(sql.contains("CONSTRAINT tenants_pkey PRIMARY KEY (id),"));
    assert!(
        !sql.contains("UNIQUE (tenant_id, id)"),
        "the primary key is the target of the composite foreign keys: {sql}"
    );
    assert!(
        !sql.contains("idx_docs_tenant_id"),
        "the primary key covers the foreign key to tenants"
    );
}

#[test]
fn unique_keys_of_soft_delete_models_hold_live_rows_only() {
    let sql = sql();
    assert!(
        sql.contains("CREATE UNIQUE INDEX members_tenant_id_email_key ON members (tenant_id, email) WHERE NOT is_deleted;"),
        "{sql}"
    );
    assert!(sql.contains("CONSTRAINT members_tenant_id_badge_key UNIQUE (tenant_id, badge)"));
    // The partial key does not serve lookups of deleted rows: the declared
    // index is kept.
    assert!(sql.contains("CREATE INDEX idx_members_email ON members (tenant_id, email);"));
    assert!(sql.contains(
        "FOREIGN KEY (tenant_id, deleted_by_id) REFERENCES members (tenant_id, id) ON DELETE SET NULL (deleted_by_id)"
    ));
    // Models without soft delete keep plain constraints.
    assert!(sql.contains("CONSTRAINT docs_tenant_id_title_key UNIQUE (tenant_id, title)"));
}

#[test]
fn global_tables_have_no_tenant_column_and_are_read_only_for_the_app() {
    let sql = sql();
    assert!(sql.contains("CREATE TABLE plans (\n    id uuid NOT NULL DEFAULT gen_random_uuid(),\n    code text NOT NULL,"));
    assert!(
        sql.contains("CONSTRAINT plans_code_key UNIQUE (code)"),
        "no tenant_id in a global key"
    );
    assert!(sql.contains("GRANT SELECT ON plans TO tenant_model_app;"));
    assert!(!sql.contains("ALTER TABLE plans ENABLE ROW LEVEL SECURITY"));
}

#[test]
fn a_reference_to_a_global_table_is_a_plain_foreign_key() {
    assert!(sql()
        .contains("CONSTRAINT docs_plan_id_fkey FOREIGN KEY (plan_id) REFERENCES plans (id)\n"));
}

#[test]
fn set_null_spares_tenant_id() {
    assert!(sql().contains(
        "FOREIGN KEY (tenant_id, folder_id) REFERENCES folders (tenant_id, id) ON DELETE SET NULL (folder_id)"
    ));
}

#[test]
fn gin_indexes_do_not_lead_with_tenant_id_and_redundant_indexes_are_skipped() {
    let sql = sql();
    assert!(
        sql.contains("CREATE INDEX idx_docs_tags ON docs USING gin (tags);"),
        "{sql}"
    );
    assert!(sql.contains("CONSTRAINT docs_tenant_id_title_key UNIQUE (tenant_id, title)"));
    assert!(
        !sql.contains("idx_docs_title"),
        "the unique key already indexes (tenant_id, title)"
    );
}

#[test]
fn nullable_foreign_keys_get_partial_indexes() {
    assert!(sql().contains(
        "CREATE INDEX idx_docs_folder_id ON docs (tenant_id, folder_id) WHERE folder_id IS NOT NULL;"
    ));
}

#[test]
fn reference_cycles_are_closed_with_alter_table_after_all_tables() {
    let sql = sql();
    let tail = sql
        .split("-- Foreign keys between tables that reference each other\n")
        .nth(1)
        .expect("deferred section");
    let deferred: Vec<&str> = tail.lines().collect();
    assert_eq!(deferred.len(), 1, "{tail}");
    assert!(
        deferred[0].starts_with("ALTER TABLE docs ADD CONSTRAINT docs_folder_id_fkey FOREIGN KEY"),
        "{tail}"
    );
    let create_docs = sql.find("CREATE TABLE docs").unwrap();
    let create_folders = sql.find("CREATE TABLE folders").unwrap();
    assert!(create_docs < create_folders, "ties broken by name");
}

#[test]
fn role_names_are_configurable_and_quoted_when_needed() {
    let sql = Schema::new()
        .app_role("App User")
        .admin_role("ops")
        .create_sql();
    assert!(sql.contains("CREATE ROLE \"App User\" NOLOGIN NOSUPERUSER NOBYPASSRLS;"));
    assert!(sql.contains("TO ops\n"));
    assert!(sql.contains("GRANT SELECT, UPDATE (name) ON tenants TO \"App User\";"));
}
