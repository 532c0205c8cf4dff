//! The emitted DDL: deterministic, reviewed as a snapshot, applies cleanly.

use std::path::PathBuf;

use tenant_model::{Schema, Target};

use crate::models::{self, Organization, Team, User, UserTeamLink};

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/saas_schema.sql")
}

/// The DDL matches the reviewed snapshot. `UPDATE_SNAPSHOTS=1` rewrites it;
/// review the diff before committing.
#[test]
fn ddl_matches_snapshot() {
    let sql = models::schema().create_sql();
    let path = snapshot_path();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &sql).expect("write snapshot");
    }
    let expected =
        std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 creates it)");
    assert!(
        sql == expected,
        "emitted DDL differs from tests/snapshots/saas_schema.sql; run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

/// The example's Citus migration (`examples/saas/migrations-citus/`) is
/// the Citus DDL, and its down script drops every table, children first,
/// then the enum type (there is no trigger function on Citus).
#[test]
fn the_example_citus_migration_is_the_citus_ddl() {
    let migrations = tenant_model::embed_migrations!("examples/saas/migrations-citus");
    let schema = models::schema().target(Target::Citus);
    let init = migrations.iter().next().expect("the Citus init migration");
    assert_eq!(
        init.up_sql(),
        schema.create_sql(),
        "examples/saas/migrations-citus/*_init/up.sql is `print-schema --citus`; if the DDL \
         changed on purpose, add a migration (or, before a release, regenerate the init)"
    );
    let down = init.down_sql().expect("a down.sql");
    let drops: Vec<&str> = down.lines().filter(|l| !l.starts_with("--")).collect();
    let mut expected: Vec<String> = schema
        .tables()
        .iter()
        .rev()
        .map(|t| format!("DROP TABLE {};", t.name))
        .collect();
    expected.extend(
        schema
            .enums()
            .iter()
            .map(|e| format!("DROP TYPE {};", e.name)),
    );
    assert_eq!(drops, expected);
}

#[test]
fn ddl_does_not_depend_on_model_order() {
    let forward = models::schema().create_sql();
    let backward = Schema::new()
        .model::<UserTeamLink>()
        .model::<Team>()
        .model::<Organization>()
        .model::<User>()
        .create_sql();
    assert_eq!(forward, backward);
}

#[test]
fn adding_a_model_adds_what_it_references() {
    let tables: Vec<&str> = Schema::new()
        .model::<UserTeamLink>()
        .tables()
        .iter()
        .map(|t| t.name)
        .collect();
    // Each table after those it references; ties in name order.
    assert_eq!(
        tables,
        [
            "tenants",
            "organizations",
            "teams",
            "users",
            "user_team_links"
        ]
    );
}

#[test]
fn ddl_never_uses_session_level_settings() {
    let sql = models::schema().create_sql();
    assert!(
        !sql.contains("SET app."),
        "no session-level SET of the context"
    );
    assert!(
        !sql.contains("current_setting('app.tenant_id')"),
        "settings are read with missing_ok"
    );
    assert!(sql.contains("NULLIF(current_setting('app.tenant_id', true), '')::uuid"));
}

#[tokio::test]
async fn ddl_applies_and_app_role_is_neither_superuser_nor_owner() {
    let db = tenant_model::testing::TestDb::new(&models::schema())
        .await
        .expect("test database");
    let app = db.app().await.expect("app connection");
    let row = app
        .query_one(
            "SELECT r.rolsuper, r.rolbypassrls, \
                    (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user) \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .expect("role query");
    assert!(!row.get::<_, bool>(0), "app role must not be superuser");
    assert!(!row.get::<_, bool>(1), "app role must not bypass RLS");
    assert_eq!(row.get::<_, i64>(2), 0, "app role must own no table");

    let su = db.superuser().await.expect("superuser connection");
    let forced: Vec<(String, bool, bool)> = su
        .query(
            "SELECT relname::text, relrowsecurity, relforcerowsecurity FROM pg_class \
             WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY relname",
            &[],
        )
        .await
        .expect("pg_class")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let names: Vec<&str> = forced.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "organizations",
            "teams",
            "tenants",
            "user_team_links",
            "users"
        ]
    );
    assert!(
        forced.iter().all(|(_, rls, force)| *rls && *force),
        "ENABLE and FORCE RLS on every table: {forced:?}"
    );
}

/// Without the `updated_at` trigger (as on Citus, which refuses triggers),
/// the library's own statements still move `updated_at` and leave
/// `created_at` alone: update, upsert, soft delete and restore.
#[tokio::test]
async fn without_the_trigger_the_library_still_sets_updated_at() {
    use tenant_model::{Changes, Executor as _};

    let seed = crate::support::seeded().await;
    let su = seed.db.superuser().await.expect("superuser connection");
    let long_ago = "2020-01-01T00:00:00Z";
    su.batch_execute(&format!(
        "DROP TRIGGER users_touch ON users; \
         UPDATE users SET created_at = '{long_ago}', updated_at = '{long_ago}'"
    ))
    .await
    .expect("drop the trigger and age the rows");
    let long_ago: chrono::DateTime<chrono::Utc> = long_ago.parse().expect("a timestamp");
    let db = crate::support::app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);

    let updated = scope()
        .update::<User>(seed.user_a, Changes::new().set(User::FULL_NAME, "Ann B"))
        .await
        .expect("update");
    assert_eq!(updated.created_at(), long_ago, "created_at never changes");
    assert!(updated.updated_at() > long_ago, "update sets updated_at");

    let deleted = scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .expect("soft delete");
    assert!(
        deleted.updated_at() > updated.updated_at(),
        "soft delete sets updated_at"
    );
    assert_eq!(deleted.created_at(), long_ago);
    su.execute("UPDATE users SET updated_at = $1", &[&long_ago])
        .await
        .expect("age again");
    let restored = scope().restore::<User>(seed.user_a).await.expect("restore");
    assert!(restored.updated_at() > long_ago, "restore sets updated_at");
    assert_eq!(restored.created_at(), long_ago);

    let mut again = crate::support::user("ann@acme.test");
    again.full_name = "Ann C".into();
    su.execute("UPDATE users SET updated_at = $1", &[&long_ago])
        .await
        .expect("age again");
    let upserted = scope()
        .upsert(again, &[User::EMAIL.into()])
        .await
        .expect("upsert");
    assert_eq!(upserted.id, seed.user_a);
    assert!(upserted.updated_at() > long_ago, "upsert sets updated_at");
    assert_eq!(upserted.created_at(), long_ago);
    seed.db.close().await.expect("drop the test database");
}
