//! The emitter's rules, checked on the SQL text (no database).

use crate::model::{ForeignKeyDef, ModelDef, OnDelete, Scope};
use crate::prelude::*;
use crate::schema::{ConstraintKind, SchemaError};

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

// ---------------------------------------------------------------------------
// What cannot be emitted
// ---------------------------------------------------------------------------

mod clash {
    use crate::prelude::*;

    #[derive(TenantModel)]
    #[tenant_model(table = "docs")]
    pub(super) struct Page {
        #[tenant_model(primary_key)]
        id: Uuid,
    }

    /// The built-in root's table name.
    #[derive(TenantModel)]
    #[tenant_model(global)]
    pub(super) struct Tenant {
        #[tenant_model(primary_key)]
        id: Uuid,
    }
}

#[test]
fn two_models_on_one_table_are_an_error_not_a_dropped_model() {
    let schema = Schema::new().model::<Doc>().model::<clash::Page>();
    let expected = SchemaError::DuplicateTable {
        table: "docs",
        first: "Doc",
        second: "Page",
    };
    assert_eq!(schema.check(), Err(expected.clone()));
    assert_eq!(schema.try_create_sql(), Err(expected));
    assert_eq!(
        schema.check().unwrap_err().to_string(),
        "models `Doc` and `Page` both map to table `docs`: give one of them another `#[tenant_model(table = \"...\")]`"
    );
    // The built-in `tenants` table is taken too.
    assert!(matches!(
        Schema::new().model::<clash::Tenant>().check(),
        Err(SchemaError::DuplicateTable {
            table: "tenants",
            first: "Tenant",
            ..
        })
    ));
}

#[test]
#[should_panic(
    expected = "cannot emit the schema: models `Doc` and `Page` both map to table `docs`"
)]
fn create_sql_refuses_two_models_on_one_table() {
    let _ = Schema::new()
        .model::<Doc>()
        .model::<clash::Page>()
        .create_sql();
}

#[test]
fn a_model_added_again_or_through_a_reference_is_one_model() {
    // Doc references Folder and Plan; Folder references Doc.
    let schema = Schema::new()
        .model::<Folder>()
        .model::<Doc>()
        .model::<Plan>()
        .model::<Doc>();
    assert_eq!(schema.check(), Ok(()));
    assert_eq!(schema.models().len(), 4, "tenants, folders, docs, plans");
}

#[derive(TenantModel)]
struct Pair {
    #[tenant_model(primary_key)]
    left: Uuid,
    #[tenant_model(primary_key)]
    right: Uuid,
}

/// Descriptions the derive refuses to generate, written by hand.
fn hand_written(scope: Scope, target: fn() -> &'static ModelDef) -> &'static ModelDef {
    Box::leak(Box::new(ModelDef {
        rust_name: "Handmade",
        table: "handmade",
        scope,
        fields: &[],
        primary_key: &[],
        uniques: &[],
        indexes: &[],
        foreign_keys: Box::leak(Box::new([ForeignKeyDef {
            column: "target_id",
            target,
            on_delete: OnDelete::NoAction,
        }])),
        soft_delete: None,
        link: None,
    }))
}

#[test]
fn references_the_emitter_cannot_honour_are_errors() {
    let composite = Schema::new().add_def(hand_written(Scope::Tenant, <Pair as Model>::def));
    assert_eq!(
        composite.check(),
        Err(SchemaError::CompositeKeyReference {
            model: "Handmade",
            column: "target_id",
            target: "Pair",
            key_columns: 2,
        })
    );
    // No column is invented for the target: the key is taken as it is.
    let table = composite
        .tables()
        .into_iter()
        .find(|t| t.name == "handmade")
        .unwrap();
    let target_columns: Vec<&Vec<&str>> = table
        .constraints
        .iter()
        .filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey {
                table: "pairs",
                target_columns,
                ..
            } => Some(target_columns),
            _ => None,
        })
        .collect();
    assert_eq!(target_columns, [&vec!["tenant_id", "left", "right"]]);

    let global = Schema::new().add_def(hand_written(Scope::Global, <Folder as Model>::def));
    assert_eq!(
        global.check(),
        Err(SchemaError::GlobalReferencesTenant {
            model: "Handmade",
            column: "target_id",
            target: "Folder",
        })
    );
}

/// Soft-delete parents and children for the cascade check.
mod cascade {
    use crate::prelude::*;

    #[derive(TenantModel)]
    #[tenant_model(table = "folders", soft_delete, has_many(pages = DeclaredPage))]
    pub(super) struct Folder {
        #[tenant_model(primary_key)]
        pub id: Uuid,
    }

    #[derive(TenantModel)]
    #[tenant_model(table = "declared_pages", soft_delete)]
    pub(super) struct DeclaredPage {
        #[tenant_model(primary_key)]
        pub id: Uuid,
        #[tenant_model(references = Folder, on_delete = cascade)]
        pub folder_id: Uuid,
    }

    /// Cascades from `Folder`, which does not declare it.
    #[derive(TenantModel)]
    #[tenant_model(table = "stray_pages", soft_delete)]
    pub(super) struct StrayPage {
        #[tenant_model(primary_key)]
        pub id: Uuid,
        #[tenant_model(references = Folder, on_delete = cascade)]
        pub folder_id: Uuid,
    }

    /// Not a cascade: nothing to follow.
    #[derive(TenantModel)]
    #[tenant_model(table = "kept_pages", soft_delete)]
    pub(super) struct KeptPage {
        #[tenant_model(primary_key)]
        pub id: Uuid,
        #[tenant_model(references = Folder, on_delete = restrict)]
        pub folder_id: Uuid,
    }
}

#[test]
fn a_soft_delete_cascade_the_parent_does_not_declare_is_an_error() {
    use cascade::{DeclaredPage, Folder, KeptPage, StrayPage};
    let declared = Schema::new().model::<Folder>().model::<DeclaredPage>();
    assert_eq!(declared.check(), Ok(()));
    let kept = declared.clone().model::<KeptPage>();
    assert_eq!(kept.check(), Ok(()));
    let stray = Schema::new().model::<Folder>().model::<StrayPage>();
    let err = stray.check().unwrap_err();
    assert_eq!(
        err,
        SchemaError::UndeclaredSoftDeleteCascade {
            parent: "Folder",
            child: "StrayPage",
            column: "folder_id",
        }
    );
    assert!(
        err.to_string()
            .contains("would leave its `StrayPage` rows live"),
        "{err}"
    );
}
