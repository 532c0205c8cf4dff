//! On a real Citus cluster: the coordinator named by `CITUS_URL`, or a
//! throwaway coordinator and two workers the harness starts from the local
//! binaries when the `citus` extension is installed (see
//! `tenant_model::testing::citus_server`). Without either, every test here
//! prints a `NOT RUN: no Citus` banner straight to the terminal (past
//! libtest's capture) and checks nothing else.
//!
//! Tenant work runs as the application login role through a `Db` in Citus
//! mode; the shards are read directly on the workers as the superuser.

use std::io::Write as _;

use tenant_model::testing::{citus_server, Server, TestDb};
use tenant_model::{Changes, Db, Error, Executor, Model, Record, ServerMode, TenantId};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::models::{Organization, Team, User, UserRole, UserTeamLink};
use crate::support::{schema, user};

/// The Citus server, or `None` after a loud banner saying why not.
async fn citus(test: &str) -> Option<&'static Server> {
    match citus_server().await {
        Ok(server) => Some(server),
        Err(e) => {
            // Straight to stderr: libtest captures `eprintln!`, and a
            // skipped check must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n=====================================================================\n\
                 NOT RUN: no Citus for citus::{test}: {e}\n\
                 =====================================================================\n"
            );
            None
        }
    }
}

/// A fresh database on the cluster with the SaaS schema (Citus DDL), two
/// tenants made through the admin scope, and a `Db` in the harness's mode.
struct Fixture {
    db: TestDb,
    app: Db,
    a: TenantId,
    b: TenantId,
}

async fn fixture(server: &Server) -> Fixture {
    let db = TestDb::new_on(server, &schema())
        .await
        .expect("a test database on Citus");
    assert!(db.is_citus());
    let app = db.app_db(4);
    let a = app
        .create_tenant("Acme", "acme")
        .await
        .expect("tenant a")
        .id;
    let b = app
        .create_tenant("Globex", "globex")
        .await
        .expect("tenant b")
        .id;
    Fixture { db, app, a, b }
}

/// Every row of every shard of `table`, read on the workers as the
/// superuser: `(shard table, tenant_id, text of column)`.
async fn rows_on_workers(f: &Fixture, table: &str, column: &str) -> Vec<(String, Uuid, String)> {
    let su = f.db.superuser().await.unwrap();
    let shards = su
        .query(
            "SELECT shard_name::text, nodeport FROM citus_shards WHERE table_name = $1::text::regclass",
            &[&table],
        )
        .await
        .unwrap();
    assert!(!shards.is_empty(), "{table} has shards");
    let workers = f.db.worker_superusers().await.unwrap();
    let configs = f.db.worker_superuser_configs();
    let mut found = Vec::new();
    for shard in shards {
        let name: String = shard.get(0);
        let port = u16::try_from(shard.get::<_, i32>(1)).unwrap();
        let worker: &Client = configs
            .iter()
            .position(|c| c.get_ports() == [port])
            .map(|i| &workers[i])
            .expect("the shard is on a worker");
        let rows = worker
            .query(
                &format!("SELECT tenant_id, {column}::text FROM {name}"),
                &[],
            )
            .await
            .unwrap();
        for row in rows {
            found.push((name.clone(), row.get(0), row.get(1)));
        }
    }
    found
}

#[tokio::test]
async fn the_schema_is_reference_and_colocated_distributed_tables() {
    let Some(server) = citus("the_schema_is_reference_and_colocated_distributed_tables").await
    else {
        return;
    };
    let f = fixture(server).await;
    let su = f.db.superuser().await.unwrap();
    let rows = su
        .query(
            "SELECT table_name::text, citus_table_type, distribution_column, colocation_id, shard_count \
             FROM citus_tables ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let tables: Vec<(String, String, String, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let kind = |name: &str| {
        tables
            .iter()
            .find(|t| t.0 == name)
            .unwrap_or_else(|| panic!("{name} is a Citus table: {tables:?}"))
    };
    assert_eq!(kind("tenants").1, "reference");
    let distributed = [
        "users",
        "organizations",
        "teams",
        "user_team_links",
        "notes",
    ];
    for name in distributed {
        assert_eq!(kind(name).1, "distributed", "{tables:?}");
        assert_eq!(kind(name).2, "tenant_id", "{tables:?}");
    }
    let colocation = kind("users").3;
    assert!(
        distributed.iter().all(|name| kind(name).3 == colocation),
        "one colocation group: {tables:?}"
    );
    // Every table of the schema is a Citus table (none left local).
    let local: i64 = su
        .query_one(
            "SELECT count(*) FROM pg_tables t WHERE schemaname = 'public' \
             AND NOT EXISTS (SELECT 1 FROM citus_tables c WHERE c.table_name = (quote_ident(t.tablename))::regclass) \
             AND tablename <> '_tenant_model_migrations'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(local, 0, "no table stays local to the coordinator");
    let mode = f.app.check_server_mode().await.unwrap();
    assert_eq!(mode, ServerMode::Citus);
    // Detection, without the harness saying so.
    let detected = Db::from_pool(f.db.app_pool(1));
    assert_eq!(
        detected.check_server_mode().await.unwrap(),
        ServerMode::Citus
    );
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn tenant_a_never_sees_or_changes_b_rows_on_any_shard() {
    let Some(server) = citus("tenant_a_never_sees_or_changes_b_rows_on_any_shard").await else {
        return;
    };
    let f = fixture(server).await;
    let (mut a, mut b) = (f.app.tenant(f.a), f.app.tenant(f.b));
    let mut a_ids = Vec::new();
    for i in 0..6 {
        a_ids.push(a.insert(user(&format!("a{i}@acme.test"))).await.unwrap().id);
    }
    let bob = b.insert(user("bob@globex.test")).await.unwrap();

    // Through the library, as A: only A's rows, B's row unreachable.
    let seen = User::query().all(&a).await.unwrap();
    assert_eq!(seen.len(), 6);
    assert!(seen.iter().all(|u| u.tenant_id() == Some(f.a)));
    let err = a.find::<User>(bob.id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = a
        .update::<User>(bob.id, Changes::new().set(User::FULL_NAME, "pwned"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let gone = User::query()
        .filter(User::ID.eq(bob.id))
        .force_delete(&a)
        .await
        .unwrap();
    assert_eq!(gone, 0);
    // Raw SQL as A is limited by the policies on the workers too.
    let raw: i64 = a
        .run(async |tx| {
            let rows = tx.raw_query("SELECT count(*) FROM users", &[]).await?;
            Ok(rows[0].get(0))
        })
        .await
        .unwrap();
    assert_eq!(raw, 6, "RLS on the shards limits raw SQL to A");
    let changed = a
        .run(async |tx| {
            tx.raw_execute("UPDATE users SET full_name = 'pwned'", &[])
                .await
        })
        .await
        .unwrap();
    assert_eq!(
        changed, 6,
        "a raw UPDATE without a filter reaches A's rows only"
    );

    // On the workers, as the superuser: B's row is intact, the rows are
    // spread over shards on both workers, and nothing is on the coordinator.
    let rows = rows_on_workers(&f, "users", "full_name").await;
    assert_eq!(rows.len(), 7, "{rows:?}");
    let bobs: Vec<_> = rows.iter().filter(|r| r.1 == f.b.as_uuid()).collect();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].2, "bob", "B's row is untouched: {rows:?}");
    assert!(rows
        .iter()
        .filter(|r| r.1 == f.a.as_uuid())
        .all(|r| r.2 == "pwned"));
    // Each tenant's rows live in one shard (distributed by tenant_id).
    let a_shards: std::collections::BTreeSet<_> = rows
        .iter()
        .filter(|r| r.1 == f.a.as_uuid())
        .map(|r| r.0.clone())
        .collect();
    assert_eq!(a_shards.len(), 1, "{rows:?}");
    let su = f.db.superuser().await.unwrap();
    let on_coordinator: i64 = su
        .query_one(
            "SELECT count(*) FROM citus_shards WHERE table_name = 'users'::regclass \
             AND nodeport = current_setting('port')::int",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(on_coordinator, 0, "users' shards are on the workers");
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn a_cross_tenant_write_is_rejected_on_the_worker() {
    let Some(server) = citus("a_cross_tenant_write_is_rejected_on_the_worker").await else {
        return;
    };
    let f = fixture(server).await;
    let err = f
        .app
        .tenant(f.a)
        .run(async |tx| {
            tx.raw_execute(
                "INSERT INTO users (id, tenant_id, email, full_name) VALUES ($1, $2, 'x@globex.test', 'X')",
                &[&Uuid::now_v7(), &f.b.as_uuid()],
            )
            .await
        })
        .await
        .unwrap_err();
    let db_error = err.db_error().expect("a server error");
    assert_eq!(db_error.code().code(), "42501", "{err}");
    // The policy of a shard (`users_<shard id>`) refused it, on a worker.
    let message = db_error.message();
    assert!(
        message.starts_with("new row violates row-level security policy for table \"users_"),
        "{message}"
    );
    let shard = message
        .trim_end_matches('"')
        .rsplit("users_")
        .next()
        .unwrap_or_default();
    assert!(
        !shard.is_empty() && shard.chars().all(|c| c.is_ascii_digit()),
        "{message}"
    );
    assert!(
        db_error
            .where_()
            .is_some_and(|w| w.contains("while executing command on")),
        "the error comes from a worker: {:?}",
        db_error.where_()
    );
    assert!(
        matches!(&err, Error::RowSecurity { table: Some(t), .. } if t == "users"),
        "the error names the distributed table, not its shard: {err:?}"
    );
    // And nothing of it is on any shard.
    let rows = rows_on_workers(&f, "users", "email").await;
    assert!(rows.iter().all(|r| r.2 != "x@globex.test"), "{rows:?}");
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn typed_statements_route_to_one_shard() {
    let Some(server) = citus("typed_statements_route_to_one_shard").await else {
        return;
    };
    let f = fixture(server).await;
    let mut scope = f.app.tenant(f.a);
    let ann = scope.insert(user("ann@acme.test")).await.unwrap();

    // EXPLAIN of the library's own statement texts, with their parameters.
    let tenant = f.a.as_uuid();
    let sql = User::sql();
    let explain = async |statement: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]| {
        let plan = scope
            .run(async |tx| tx.raw_query(&format!("EXPLAIN {statement}"), params).await)
            .await
            .unwrap();
        let plan: Vec<String> = plan.iter().map(|r| r.get(0)).collect();
        assert!(
            plan.iter().any(|l| l.trim() == "Task Count: 1"),
            "{statement}\n{}",
            plan.join("\n")
        );
    };
    explain(&sql.scoped.find, &[&tenant, &ann.id]).await;
    explain(&sql.scoped.soft_delete, &[&tenant, &ann.id, &Some(ann.id)]).await;
    explain(&sql.scoped.delete, &[&tenant, &ann.id]).await;
    let list = User::query()
        .filter(User::EMAIL.eq("ann@acme.test"))
        .to_sql(Some(f.a))
        .unwrap();
    explain(&list, &[&tenant, &"ann@acme.test"]).await;

    // Every typed statement, run through the library while the cluster
    // refuses any statement that needs more than one shard
    // (`citus.multi_task_query_log_level = error` for the app role).
    let su = f.db.superuser().await.unwrap();
    su.batch_execute(&format!(
        "ALTER ROLE \"{}\" IN DATABASE \"{}\" SET citus.multi_task_query_log_level = 'error'",
        f.db.app_role(),
        f.db.name()
    ))
    .await
    .unwrap();
    let guarded = f.db.app_db(1);
    let mut scope = guarded.tenant(f.a);
    // The guard works: a statement without the tenant key fans out.
    let err = scope
        .run(async |tx| tx.raw_query("SELECT count(*) FROM users", &[]).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("multi-task"), "{err}");

    let bob = scope.insert(user("bob@acme.test")).await.unwrap();
    let found = scope.find::<User>(bob.id).await.unwrap();
    assert_eq!(found.email, "bob@acme.test");
    let updated = scope
        .update::<User>(bob.id, Changes::new().set(User::FULL_NAME, "Bobby"))
        .await
        .unwrap();
    assert_eq!(updated.full_name, "Bobby");
    let listed = User::query()
        .filter(User::EMAIL.like("%@acme.test"))
        .order_by(User::EMAIL.asc())
        .all(&scope)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let org = scope
        .insert(Organization {
            id: Uuid::now_v7(),
            name: "R&D".into(),
        })
        .await
        .unwrap();
    let team = scope
        .insert(Team {
            id: Uuid::now_v7(),
            organization_id: org.id,
            name: "Core".into(),
        })
        .await
        .unwrap();
    scope
        .insert(UserTeamLink {
            user_id: bob.id,
            team_id: team.id,
            role: UserRole::Admin,
        })
        .await
        .unwrap();
    let orgs = Organization::query()
        .with(Organization::TEAMS.with((Team::ORGANIZATION, Team::MEMBERS)))
        .all(&mut scope)
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1);
    let teams = &orgs[0].related;
    assert_eq!(teams.len(), 1);
    let (parent, members) = &teams[0].related;
    assert_eq!(parent.as_ref().map(|o| o.id), Some(org.id));
    assert_eq!(members.len(), 1);
    scope
        .soft_delete::<User>(bob.id, Some(ann.id))
        .await
        .unwrap();
    let live = User::query().count(&scope).await.unwrap();
    assert_eq!(live, 1);
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn the_admin_scope_works_across_shards() {
    let Some(server) = citus("the_admin_scope_works_across_shards").await else {
        return;
    };
    let f = fixture(server).await;
    for (tenant, n) in [(f.a, 3), (f.b, 2)] {
        for i in 0..n {
            f.app
                .tenant(tenant)
                .insert(user(&format!("u{i}@{tenant}.test")))
                .await
                .unwrap();
        }
    }
    let admin = f.app.admin("citus report").unwrap();
    let all = admin
        .run(async |tx| User::query().count(tx).await)
        .await
        .unwrap();
    assert_eq!(all, 5, "the admin scope counts every tenant's rows");
    let listed: Vec<Record<User>> = admin
        .run(async |tx| User::query().order_by(User::EMAIL.asc()).all(tx).await)
        .await
        .unwrap();
    let tenants: std::collections::BTreeSet<_> =
        listed.iter().filter_map(|u| u.tenant_id()).collect();
    assert_eq!(tenants.len(), 2);
    // The reason stays on the coordinator (never formatted into SQL).
    let reason: String = admin
        .run(async |tx| {
            let rows = tx
                .raw_query("SELECT current_setting('app.admin_reason')", &[])
                .await?;
            Ok(rows[0].get(0))
        })
        .await
        .unwrap();
    assert_eq!(reason, "citus report");
    // A tenant cannot forge the admin flag, on the workers either (the
    // library's SET LOCALs already made settings travel in this one).
    let mut tx = f.app.tenant(f.a).begin().await.unwrap();
    tx.raw_execute("SET LOCAL app.is_superuser = 'on'", &[])
        .await
        .unwrap();
    let count = User::query().count(&mut tx).await.unwrap();
    assert_eq!(count, 3, "the app role gains nothing from the flag");
    tx.commit().await.unwrap();
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn the_context_reaches_the_workers_after_raw_sql_reset_the_session() {
    let Some(server) =
        citus("the_context_reaches_the_workers_after_raw_sql_reset_the_session").await
    else {
        return;
    };
    let f = fixture(server).await;
    // One connection, so every transaction below shares the session.
    let db = f.db.app_db(1);
    let mut scope = db.tenant(f.a);
    scope.insert(user("ann@acme.test")).await.unwrap();
    scope
        .run(async |tx| {
            tx.raw_execute("SET citus.propagate_set_commands = 'none'", &[])
                .await?;
            tx.raw_execute(
                "SET app.tenant_id = '00000000-0000-0000-0000-000000000000'",
                &[],
            )
            .await
        })
        .await
        .unwrap();
    // The cleanup (RESET ALL) ran; the next transaction sets both again.
    let seen = User::query().all(&scope).await.unwrap();
    assert_eq!(seen.len(), 1, "the context reached the worker");
    let setting: String = db
        .pool()
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT current_setting('citus.propagate_set_commands')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        setting, "none",
        "nothing session-level is left behind (the default)"
    );

    // Why Citus mode exists: a transaction-local set_config does not reach
    // the workers, so the plain mode sees nothing there (fail closed).
    let plain = Db::from_pool(f.db.app_pool(1)).server_mode(ServerMode::Plain);
    let seen = User::query().all(&plain.tenant(f.a)).await.unwrap();
    assert!(seen.is_empty(), "set_config stays on the coordinator");
    f.db.close().await.unwrap();
}

#[tokio::test]
async fn the_example_migrates_onto_a_fresh_cluster_and_back_down() {
    use tenant_model::migrate::{DownTarget, Migrator};
    let Some(server) = citus("the_example_migrates_onto_a_fresh_cluster_and_back_down").await
    else {
        return;
    };
    let migrations = tenant_model::embed_migrations!("examples/saas/migrations-citus");
    let db = TestDb::empty_on(server, &crate::models::schema())
        .await
        .expect("an empty database on Citus");
    let mut owner = db.superuser().await.unwrap();
    let citus_tables = async |client: &Client| -> Vec<(String, String)> {
        client
            .query(
                "SELECT table_name::text, citus_table_type FROM citus_tables ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    assert!(citus_tables(&owner).await.is_empty());
    let steps = Migrator::new(&migrations)
        .up(&mut owner, None)
        .await
        .expect("up on Citus");
    assert_eq!(steps.len(), migrations.iter().count());
    let tables = citus_tables(&owner).await;
    let expected: Vec<(String, String)> = [
        ("organizations", "distributed"),
        ("teams", "distributed"),
        ("tenants", "reference"),
        ("user_team_links", "distributed"),
        ("users", "distributed"),
    ]
    .iter()
    .map(|(t, k)| (t.to_string(), k.to_string()))
    .collect();
    assert_eq!(tables, expected);

    // The migrated database works for the application, on the workers.
    let app = db.app_db(2);
    let acme = app.create_tenant("Acme", "acme").await.unwrap().id;
    let ann = app
        .tenant(acme)
        .insert(user("ann@acme.test"))
        .await
        .unwrap();
    let found = app.tenant(acme).find::<User>(ann.id).await.unwrap();
    assert_eq!(found.email, "ann@acme.test");
    let shards_with_rows = {
        let mut n = 0;
        for worker in db.worker_superusers().await.unwrap() {
            // Citus hides shards from the catalog views unless asked.
            worker
                .batch_execute("SET citus.override_table_visibility = off")
                .await
                .unwrap();
            let rows = worker
                .query(
                    "SELECT tablename FROM pg_tables WHERE tablename ~ '^users_[0-9]+$'",
                    &[],
                )
                .await
                .unwrap();
            for row in rows {
                let table: String = row.get(0);
                let count: i64 = worker
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await
                    .unwrap()
                    .get(0);
                n += count;
            }
        }
        n
    };
    assert_eq!(shards_with_rows, 1, "ann's row is on a worker's shard");

    // Every table (shards included) on the workers, with Citus's hiding of
    // shards from the catalog views off.
    let on_workers = async || {
        let mut tables = 0;
        for worker in db.worker_superusers().await.unwrap() {
            worker
                .batch_execute("SET citus.override_table_visibility = off")
                .await
                .unwrap();
            let n: i64 = worker
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            tables += n;
        }
        tables
    };
    assert!(on_workers().await > 0, "the shards are on the workers");
    Migrator::new(&migrations)
        .down(&mut owner, DownTarget::All)
        .await
        .expect("down on Citus");
    assert!(citus_tables(&owner).await.is_empty());
    assert_eq!(
        on_workers().await,
        0,
        "no table or shard is left on a worker"
    );
    drop(app);
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_hard_delete_nulls_the_set_null_references_itself() {
    let Some(server) = citus("a_hard_delete_nulls_the_set_null_references_itself").await else {
        return;
    };
    let f = fixture(server).await;
    // users.deleted_by_id references users: ON DELETE SET NULL on plain
    // PostgreSQL, no action on Citus (which refuses SET NULL there).
    let refs = schema()
        .target(tenant_model::Target::Citus)
        .set_null_references();
    assert!(
        refs.iter()
            .any(|r| r.table == "users" && r.column == "deleted_by_id"),
        "{refs:?}"
    );
    let mut scope = f.app.tenant(f.a);
    let ann = scope.insert(user("ann@acme.test")).await.unwrap();
    let bob = scope.insert(user("bob@acme.test")).await.unwrap();
    scope
        .soft_delete::<User>(bob.id, Some(ann.id))
        .await
        .unwrap();

    // Without the references a Citus delete is refused, never dangling.
    let bare = Db::from_pool(f.db.app_pool(1)).server_mode(ServerMode::Citus);
    let err = bare
        .tenant(f.a)
        .force_delete::<User>(ann.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation { .. }), "{err}");

    // With them (TestDb::app_db passes the schema's): nulled, then deleted, in
    // one transaction.
    scope.force_delete::<User>(ann.id).await.unwrap();
    let bob = scope.find_with_deleted::<User>(bob.id).await.unwrap();
    assert!(bob.is_deleted());
    assert_eq!(bob.deleted_by_id(), None, "deleted_by_id was set to NULL");

    // By filter, too.
    let carl = scope.insert(user("carl@acme.test")).await.unwrap();
    let dave = scope.insert(user("dave@acme.test")).await.unwrap();
    scope
        .soft_delete::<User>(dave.id, Some(carl.id))
        .await
        .unwrap();
    let n = User::query()
        .filter(User::EMAIL.eq("carl@acme.test"))
        .force_delete(&mut scope)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let dave = scope.find_with_deleted::<User>(dave.id).await.unwrap();
    assert_eq!(dave.deleted_by_id(), None);
    f.db.close().await.unwrap();
}
