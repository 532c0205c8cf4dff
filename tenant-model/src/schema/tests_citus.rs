//! The Citus target's emission, checked on the SQL text (no database; the
//! real cluster runs are in tests/integration and the guide's chapter).

use crate::model::{ForeignKeyDef, ModelDef, OnDelete, Scope};
use crate::prelude::*;
use crate::schema::{SchemaError, SetNullReference};

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
    #[tenant_model(references = Plan, on_delete = set_null)]
    plan_id: Option<Uuid>,
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
    #[tenant_model(references = Folder, on_delete = restrict)]
    home_id: Option<Uuid>,
}

fn schema() -> Schema {
    Schema::new()
        .target(Target::Citus)
        .model::<Doc>()
        .model::<Member>()
}

fn sql() -> String {
    schema().create_sql()
}

/// The byte offset of `needle` in `sql`, which must contain it.
fn at(sql: &str, needle: &str) -> usize {
    sql.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` missing from:\n{sql}"))
}

#[test]
fn tables_then_reference_tables_then_distributed_tables_then_foreign_keys() {
    let sql = sql();
    let last_create = sql.rfind("CREATE TABLE").expect("tables");
    let first_reference = at(&sql, "SELECT create_reference_table('tenants');");
    let plans = at(&sql, "SELECT create_reference_table('plans');");
    let docs = at(
        &sql,
        "SELECT create_distributed_table('docs', 'tenant_id');",
    );
    let folders = at(
        &sql,
        "SELECT create_distributed_table('folders', 'tenant_id', colocate_with => 'docs');",
    );
    let members = at(
        &sql,
        "SELECT create_distributed_table('members', 'tenant_id', colocate_with => 'docs');",
    );
    let first_fk = at(&sql, "ALTER TABLE docs ADD CONSTRAINT");
    assert!(last_create < first_reference, "{sql}");
    assert!(first_reference < plans && plans < docs, "{sql}");
    // Parents before children: members references folders.
    assert!(docs < folders && folders < members, "{sql}");
    assert!(members < first_fk, "{sql}");
    // No foreign key inside a CREATE TABLE: every one comes after distribution.
    assert!(!sql[..first_reference].contains("FOREIGN KEY"), "{sql}");
    assert_eq!(sql.matches("create_distributed_table").count(), 3);
    assert_eq!(sql.matches("create_reference_table").count(), 2);
    assert!(sql.contains(
        "ALTER TABLE members ADD CONSTRAINT members_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;\n"
    ));
    assert!(sql.contains(
        "ALTER TABLE folders ADD CONSTRAINT folders_cover_id_fkey FOREIGN KEY (tenant_id, cover_id) REFERENCES docs (tenant_id, id);\n"
    ));
}

#[test]
fn no_trigger_and_no_trigger_function() {
    let sql = sql();
    assert!(!sql.contains("TRIGGER"), "{sql}");
    assert!(!sql.contains("tenant_model_touch"), "{sql}");
    assert!(!sql.contains("FUNCTION"), "{sql}");
}

#[test]
fn no_set_null_on_keys_that_include_tenant_id() {
    let sql = sql();
    // Between tenant tables: no action, the library nulls the column.
    assert!(sql.contains(
        "ALTER TABLE docs ADD CONSTRAINT docs_folder_id_fkey FOREIGN KEY (tenant_id, folder_id) REFERENCES folders (tenant_id, id);\n"
    ), "{sql}");
    assert!(sql.contains(
        "ALTER TABLE members ADD CONSTRAINT members_deleted_by_id_fkey FOREIGN KEY (tenant_id, deleted_by_id) REFERENCES members (tenant_id, id);\n"
    ), "{sql}");
    // To a reference table the key has no tenant_id: Citus accepts SET NULL.
    assert!(sql.contains(
        "ALTER TABLE docs ADD CONSTRAINT docs_plan_id_fkey FOREIGN KEY (plan_id) REFERENCES plans (id) ON DELETE SET NULL (plan_id);\n"
    ), "{sql}");
    assert_eq!(sql.matches("SET NULL").count(), 1, "{sql}");
    assert!(!sql.contains("SET DEFAULT"), "{sql}");
    // Plain PostgreSQL keeps the action.
    let plain = Schema::new().model::<Doc>().model::<Member>().create_sql();
    assert!(plain.contains("REFERENCES folders (tenant_id, id) ON DELETE SET NULL (folder_id)"));
    assert!(plain.contains("CREATE TRIGGER docs_touch"));
}

#[test]
fn set_null_references_list_what_the_library_must_null() {
    assert_eq!(
        schema().set_null_references(),
        [
            SetNullReference {
                table: "docs",
                column: "folder_id",
                target: "folders",
                target_column: "id"
            },
            SetNullReference {
                table: "members",
                column: "deleted_by_id",
                target: "members",
                target_column: "id"
            },
        ]
    );
}

#[test]
fn policies_have_no_sub_select_and_fail_closed() {
    let schema = schema();
    let sql = schema.create_sql();
    assert!(!sql.contains("(SELECT"), "{sql}");
    assert!(sql.contains(
        "CREATE POLICY docs_tenant_isolation ON docs\n    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)\n    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);\n"
    ), "{sql}");
    assert!(sql.contains(
        "CREATE POLICY tenants_own_row_select ON tenants FOR SELECT\n    USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);\n"
    ), "{sql}");
    assert!(sql.contains(
        "USING (coalesce(nullif(current_setting('app.is_superuser', true), ''), 'off')::boolean)"
    ), "{sql}");
    // What the audit compares with: the same expressions.
    for policy in schema.policies() {
        assert!(sql.contains(&policy.create_sql()), "{policy:?}");
        let using = policy.using.as_deref().unwrap_or_default();
        assert!(!using.contains("SELECT"), "{policy:?}");
    }
    assert_eq!(schema.policies().len(), 3 + 2 * 3);
}

#[test]
fn keys_and_unique_indexes_include_tenant_id() {
    let sql = sql();
    for line in sql.lines() {
        if line.contains("PRIMARY KEY") || line.contains(" UNIQUE ") {
            let tenant_table = ["docs", "folders", "members"]
                .iter()
                .any(|t| line.contains(&format!("{t}_")) || line.contains(&format!("ON {t} ")));
            if tenant_table {
                assert!(line.contains("(tenant_id, "), "{line}");
            }
        }
    }
    assert!(sql.contains("CREATE UNIQUE INDEX members_tenant_id_email_key ON members (tenant_id, email) WHERE NOT is_deleted;"));
    assert!(sql.contains("CONSTRAINT docs_tenant_id_title_key UNIQUE (tenant_id, title)"));
}

#[test]
fn plain_postgres_is_the_default_and_unchanged() {
    let plain = Schema::new().model::<Doc>().model::<Member>();
    assert_eq!(plain.emits_for(), Target::Postgres);
    assert_eq!(
        plain.create_sql(),
        plain.clone().target(Target::Postgres).create_sql()
    );
    assert!(!plain.create_sql().contains("create_distributed_table"));
}

// Three models Citus cannot distribute, refused at emission with the rule.

#[derive(TenantModel)]
struct Shelf {
    #[tenant_model(primary_key)]
    id: Uuid,
}

#[derive(TenantModel)]
struct Book {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Shelf, on_delete = set_default, default_sql = "'00000000-0000-0000-0000-000000000000'")]
    shelf_id: Uuid,
}

#[test]
fn refused_set_default_on_a_tenant_key() {
    let schema = Schema::new().model::<Book>();
    assert!(schema.check().is_ok(), "plain PostgreSQL can have it");
    let citus = schema.target(Target::Citus);
    let err = citus.try_create_sql().unwrap_err();
    assert_eq!(
        err,
        SchemaError::CitusSetDefault {
            model: "Book",
            column: "shelf_id",
            target: "Shelf"
        }
    );
    let message = err.to_string();
    assert!(message.contains("`Book.shelf_id`"), "{message}");
    assert!(
        message.contains("a foreign key that includes the distribution column `tenant_id` may not SET NULL or SET DEFAULT on delete"),
        "{message}"
    );
}

#[derive(TenantModel)]
struct Project {
    #[tenant_model(primary_key)]
    id: Uuid,
}

#[derive(TenantModel)]
struct Task {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Project, on_delete = cascade)]
    project_id: Uuid,
}

#[derive(TenantModel)]
struct Comment {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Task, on_delete = set_null)]
    task_id: Option<Uuid>,
}

#[test]
fn refused_set_null_into_rows_the_database_deletes_by_cascade() {
    let schema = Schema::new().model::<Comment>();
    assert!(schema.check().is_ok(), "plain PostgreSQL can have it");
    let err = schema.target(Target::Citus).try_create_sql().unwrap_err();
    assert_eq!(
        err,
        SchemaError::CitusSetNullUnderCascade {
            model: "Comment",
            column: "task_id",
            target: "Task",
            via_model: "Task",
            via_column: "project_id"
        }
    );
    let message = err.to_string();
    assert!(message.contains("`Comment.task_id`"), "{message}");
    assert!(
        message.contains("Citus refuses SET NULL on a foreign key that includes the distribution column `tenant_id`"),
        "{message}"
    );
    // The same reference into a model nothing cascades into is fine.
    assert!(Schema::new()
        .target(Target::Citus)
        .model::<Doc>()
        .check()
        .is_ok());
}

fn global_pointing_at(target: fn() -> &'static ModelDef) -> &'static ModelDef {
    Box::leak(Box::new(ModelDef {
        rust_name: "Catalog",
        table: "catalogs",
        scope: Scope::Global,
        fields: &[],
        primary_key: &["id"],
        uniques: &[],
        indexes: &[],
        foreign_keys: Box::leak(Box::new([ForeignKeyDef {
            column: "shelf_id",
            target,
            on_delete: OnDelete::NoAction,
        }])),
        soft_delete: None,
        link: None,
    }))
}

#[test]
fn refused_a_reference_table_pointing_at_a_distributed_table() {
    // The derive refuses this at compile time; a hand-written description
    // is refused at emission, on Citus as a reference table holding a
    // foreign key to a distributed table.
    let schema = Schema::new()
        .target(Target::Citus)
        .add_def(global_pointing_at(<Shelf as Model>::def));
    let err = schema.try_create_sql().unwrap_err();
    assert_eq!(
        err,
        SchemaError::GlobalReferencesTenant {
            model: "Catalog",
            column: "shelf_id",
            target: "Shelf"
        }
    );
    assert!(err
        .to_string()
        .contains("global model `Catalog` references tenant model `Shelf`"));
}

// Citus refuses the `updated_at` trigger: the library's statements set it.

#[test]
fn the_library_sets_updated_at_in_its_own_updates() {
    let (set, _) = crate::Changes::<Doc>::new()
        .set(Doc::TITLE, "x")
        .assignments(1);
    assert_eq!(set, "title = $1, updated_at = statement_timestamp()");
    let sql = <Member as Model>::sql();
    for statement in [&sql.scoped.soft_delete, &sql.scoped.restore] {
        assert!(
            statement.contains("updated_at = statement_timestamp()"),
            "{statement}"
        );
    }
    // What they set (before WHERE; RETURNING reads created_at back).
    for statement in [&sql.scoped.soft_delete, &sql.scoped.restore, &set] {
        let assigned = statement.split(" WHERE ").next().unwrap_or_default();
        assert!(!assigned.contains("created_at"), "{statement}");
    }
    // The application role may update only `name` on `tenants`.
    let (set, _) = crate::Changes::<Tenant>::new()
        .set(Tenant::NAME, "Acme")
        .assignments(1);
    assert_eq!(set, "name = $1");
}

#[derive(TenantModel)]
struct Node {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Node, on_delete = cascade)]
    parent_id: Option<Uuid>,
}

#[derive(TenantModel)]
struct Tag {
    #[tenant_model(primary_key)]
    id: Uuid,
    #[tenant_model(references = Node, on_delete = set_null)]
    node_id: Option<Uuid>,
}

#[test]
fn a_tree_that_deletes_its_subtree_counts_as_a_cascade() {
    let err = Schema::new()
        .target(Target::Citus)
        .model::<Tag>()
        .check()
        .unwrap_err();
    assert_eq!(
        err,
        SchemaError::CitusSetNullUnderCascade {
            model: "Tag",
            column: "node_id",
            target: "Node",
            via_model: "Node",
            via_column: "parent_id"
        }
    );
    // The tree alone distributes: CASCADE on a key with tenant_id is fine.
    let sql = Schema::new()
        .target(Target::Citus)
        .model::<Node>()
        .create_sql();
    assert!(sql.contains(
        "FOREIGN KEY (tenant_id, parent_id) REFERENCES nodes (tenant_id, id) ON DELETE CASCADE;"
    ));
}
