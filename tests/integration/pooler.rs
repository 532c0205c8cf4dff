//! Behind PgBouncer in transaction mode (issue 11): always through a real
//! PgBouncer when `pgbouncer` is installed (the harness starts one on a
//! loopback port, with a server pool of 4 per database and user), with the
//! application and admin roles connecting through it. Without PgBouncer
//! these tests print a loud "NOT RUN" banner and pass: they cannot be run,
//! and `.ci/run` installs PgBouncer and says so when it cannot.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::TryStreamExt;
use tenant_model::testing::{shared_pgbouncer, PgBouncer, TestDb};
use tenant_model::{Db, Error, Executor, Model, StatementMode, TenantId};
use uuid::Uuid;

use crate::models::{Organization, Team, User, UserRole, UserTeamLink};
use crate::relations::{link, org, team};
use crate::support::{seeded, user};

/// Client connections of the tenant pool: more than PgBouncer's server
/// pool, so transactions move between server connections.
const CLIENT_POOL: usize = 16;
/// Concurrent tasks.
const TASKS: usize = 32;
/// Insert-then-find operations per task (32 x 50 = 1,600).
const OPS_PER_TASK: usize = 50;

/// The shared PgBouncer, or `None` (with a loud banner) when it is not
/// installed. Installed but failing to start is a test failure.
async fn bouncer(test: &str) -> Option<&'static PgBouncer> {
    if PgBouncer::binary().is_none() {
        eprintln!(
            "\n################################################################\n\
             ## NOT RUN: pgbouncer not installed: pooler::{test}\n\
             ## (apt-get install pgbouncer; .ci/run installs it when it can)\n\
             ################################################################\n"
        );
        return None;
    }
    Some(shared_pgbouncer().await.expect("start PgBouncer"))
}

/// A seeded test database whose application and admin roles connect
/// through `bouncer`.
async fn behind(bouncer: &PgBouncer) -> (TestDb, Uuid, Uuid) {
    let seed = seeded().await;
    let (tenant_a, tenant_b) = (seed.tenant_a, seed.tenant_b);
    (seed.db.behind(bouncer), tenant_a, tenant_b)
}

/// The server connections' backend PIDs seen through the pooler by `n`
/// concurrent transactions, each also counting the named prepared
/// statements on its server connection.
async fn server_connections(db: &Db, tenant: Uuid, n: usize) -> (HashSet<i32>, i64) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let scope = db.tenant(tenant);
        tasks.spawn(async move {
            scope
                .run(async |tx| {
                    let rows = tx
                        .raw_query(
                            "SELECT pg_backend_pid(), \
                             (SELECT count(*) FROM pg_prepared_statements), pg_sleep(0.01)::text",
                            &[],
                        )
                        .await?;
                    Ok((rows[0].get::<_, i32>(0), rows[0].get::<_, i64>(1)))
                })
                .await
        });
    }
    let mut pids = HashSet::new();
    let mut prepared = 0;
    while let Some(joined) = tasks.join_next().await {
        let (pid, named) = joined.expect("task").expect("probe through the pooler");
        pids.insert(pid);
        prepared += named;
    }
    (pids, prepared)
}

#[tokio::test]
async fn insert_then_find_1600_concurrent_ops_across_4_tenants_fail_none_and_leak_nothing() {
    let Some(bouncer) = bouncer("insert_then_find_1600").await else {
        return;
    };
    let (test_db, _, _) = behind(bouncer).await;
    let db = test_db.app_db(CLIENT_POOL);
    assert_eq!(db.statement_mode(), StatementMode::PoolerSafe);

    // Four tenants, created through the admin pool (through the pooler).
    let mut tenants = Vec::new();
    for i in 0..4 {
        let slug = format!("pooled-{i}-{}", &Uuid::now_v7().simple().to_string()[20..]);
        let tenant: TenantId = db
            .create_tenant(format!("Pooled {i}"), slug)
            .await
            .unwrap()
            .id;
        tenants.push(tenant);
    }
    let tenants = Arc::new(tenants);

    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let db = db.clone();
        let tenants = tenants.clone();
        tasks.spawn(async move {
            let tenant = tenants[t % tenants.len()];
            let (mut ok, mut failed, mut foreign) = (0usize, Vec::new(), 0usize);
            for i in 0..OPS_PER_TASK {
                let outcome = async {
                    let mut scope = db.tenant(tenant);
                    let stored = scope.insert(user(&format!("u{t}-{i}@pool.test"))).await?;
                    let found = db.tenant(tenant).find::<User>(stored.id).await?;
                    Ok::<_, Error>((stored, found))
                }
                .await;
                match outcome {
                    Ok((stored, found)) => {
                        if found.tenant_id() != Some(tenant) || found.id != stored.id {
                            foreign += 1;
                        }
                        ok += 1;
                    }
                    Err(e) => failed.push(e.to_string()),
                }
                // Every tenth op also lists the tenant's users: none of
                // another tenant may come back.
                if i % 10 == 9 {
                    match User::query().all(db.tenant(tenant)).await {
                        Ok(rows) => {
                            foreign += rows
                                .iter()
                                .filter(|r| r.tenant_id() != Some(tenant))
                                .count()
                        }
                        Err(e) => failed.push(e.to_string()),
                    }
                }
            }
            (ok, failed, foreign)
        });
    }
    let (mut ok, mut failed, mut foreign) = (0, Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        let (o, f, x) = joined.expect("task");
        ok += o;
        failed.extend(f);
        foreign += x;
    }
    let elapsed = started.elapsed();
    let (pids, prepared) = server_connections(&db, tenants[0].as_uuid(), 48).await;
    eprintln!(
        "pooler: {ok} of {} insert-then-find ops succeeded, {} failed, {foreign} rows of \
         another tenant, in {elapsed:?}; {} server connections served {CLIENT_POOL} client \
         connections; named prepared statements seen on them: {prepared}",
        TASKS * OPS_PER_TASK,
        failed.len(),
        pids.len(),
    );
    assert!(
        failed.is_empty(),
        "failures: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert_eq!(ok, TASKS * OPS_PER_TASK);
    assert_eq!(foreign, 0, "rows of another tenant came back");
    assert!(
        pids.len() <= PgBouncer::DEFAULT_POOL_SIZE,
        "the pooler's server pool is {}, saw {} server connections",
        PgBouncer::DEFAULT_POOL_SIZE,
        pids.len()
    );
    assert_eq!(
        prepared, 0,
        "a named prepared statement outlived its transaction"
    );
    // Every user is there, in its own tenant.
    for tenant in tenants.iter() {
        let n = User::query().count(db.tenant(*tenant)).await.unwrap();
        assert_eq!(n as usize, TASKS / 4 * OPS_PER_TASK);
    }
}

#[tokio::test]
async fn the_cached_mode_through_pgbouncer_fails_with_the_typed_pooler_error() {
    let Some(bouncer) = bouncer("cached_mode_typed_error").await else {
        return;
    };
    let (test_db, tenant_a, _) = behind(bouncer).await;
    // The cached mode, on purpose, through the transaction-mode pooler.
    let db = Db::from_pool(test_db.app_pool(CLIENT_POOL));
    assert_eq!(db.statement_mode(), StatementMode::Cached);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let db = db.clone();
        tasks.spawn(async move {
            let mut errors = Vec::new();
            for i in 0..10 {
                let mut scope = db.tenant(tenant_a);
                let result = async {
                    let stored = scope.insert(user(&format!("c{t}-{i}@pool.test"))).await?;
                    db.tenant(tenant_a).find::<User>(stored.id).await
                }
                .await;
                if let Err(e) = result {
                    errors.push(e);
                }
            }
            errors
        });
    }
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        errors.extend(joined.expect("task"));
    }
    assert!(
        !errors.is_empty(),
        "the cached mode should fail through a transaction-mode pooler"
    );
    let other: Vec<String> = errors
        .iter()
        .filter(|e| !e.is_pooler_statement())
        .map(|e| e.to_string())
        .collect();
    assert!(other.is_empty(), "untyped failures: {other:?}");
    let first = &errors[0];
    assert!(matches!(first, Error::PoolerStatement { .. }));
    assert!(matches!(first.code(), Some("26000" | "42P05")), "{first}");
    let message = first.to_string();
    assert!(message.contains("StatementMode::PoolerSafe"), "{message}");
    assert!(message.contains("pool_mode = transaction"), "{message}");
    eprintln!(
        "pooler: cached mode through PgBouncer: {} typed errors, e.g. {message}",
        errors.len()
    );
}

#[tokio::test]
async fn enums_raw_sql_streaming_bulk_admin_and_relations_work_through_pgbouncer() {
    let Some(bouncer) = bouncer("enums_raw_stream_bulk_admin_relations").await else {
        return;
    };
    let (test_db, tenant_a, tenant_b) = behind(bouncer).await;
    let db = test_db.app_db(CLIENT_POOL);

    // Bulk insert (one statement over arrays) and relations with an enum
    // column on the link, from many tasks at once so that connections that
    // were never warmed meet the enum type.
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let db = db.clone();
        tasks.spawn(async move {
            let tenant = if t % 2 == 0 { tenant_a } else { tenant_b };
            let mut scope = db.tenant(tenant);
            let members: Vec<User> = (0..3)
                .map(|i| user(&format!("m{t}-{i}@pool.test")))
                .collect();
            scope.insert_many(&members).await?;
            let o = org(&format!("org {t}"));
            let red = team(o.id, "red");
            scope.insert(o.clone()).await?;
            scope.insert(red.clone()).await?;
            let links: Vec<UserTeamLink> = members
                .iter()
                .zip([UserRole::Owner, UserRole::Admin, UserRole::Guest])
                .map(|(m, role)| link(m.id, red.id, role))
                .collect();
            scope.insert_many(&links).await?;
            let orgs = Organization::query()
                .filter(Organization::ID.eq(o.id))
                .with(Organization::TEAMS.with(Team::MEMBERS))
                .all(&mut db.tenant(tenant))
                .await?;
            let roles: Vec<UserRole> = orgs[0].related[0]
                .related
                .iter()
                .map(|m| m.link.role)
                .collect();
            let found = db
                .tenant(tenant)
                .find::<UserTeamLink>((members[0].id, red.id))
                .await?;
            Ok::<_, Error>((roles.len(), found.role))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (members, role) = joined.expect("task").expect("work through the pooler");
        assert_eq!(members, 3);
        assert_eq!(role, UserRole::Owner);
    }

    // Raw SQL returning an enum and an array of it, and a raw filter.
    let mut tx = db.tenant(tenant_a).begin().await.unwrap();
    let rows = tx
        .raw_query(
            "SELECT role, (SELECT array_agg(role) FROM user_team_links) FROM user_team_links \
             WHERE role = $1",
            &[&UserRole::Admin],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), TASKS / 2);
    let role: UserRole = rows[0].get(0);
    assert_eq!(role, UserRole::Admin);
    let all: Vec<UserRole> = rows[0].get(1);
    assert_eq!(all.len(), TASKS / 2 * 3, "this tenant's links only");
    assert!(all.contains(&UserRole::Guest));
    // Streaming through a cursor, in the same transaction.
    let mut streamed = 0;
    {
        let mut stream =
            std::pin::pin!(User::query().order_by(User::EMAIL.asc()).stream(&mut tx, 7));
        while let Some(u) = stream.try_next().await.unwrap() {
            assert_eq!(u.tenant_id(), Some(tenant_a.into()));
            streamed += 1;
        }
    }
    assert_eq!(
        streamed,
        1 + TASKS / 2 * 3,
        "the seeded user and 3 per task"
    );
    tx.commit().await.unwrap();

    // The admin scope sees every tenant's links.
    let n: i64 = db
        .admin("pooler test")
        .unwrap()
        .run(async |tx| {
            Ok(tx
                .raw_query("SELECT count(*) FROM user_team_links", &[])
                .await?[0]
                .get(0))
        })
        .await
        .unwrap();
    assert_eq!(n as usize, TASKS * 3);
    // The audit runs through the pooler too.
    let report = db.audit(&crate::support::schema()).await.unwrap();
    assert!(report.is_ok(), "{report}");

    let (_, prepared) = server_connections(&db, tenant_a, 48).await;
    assert_eq!(
        prepared, 0,
        "a named prepared statement outlived its transaction"
    );
}

#[tokio::test]
async fn a_type_created_after_warm_up_gives_the_typed_error_once_then_works() {
    let Some(bouncer) = bouncer("new_type_after_warm_up").await else {
        return;
    };
    let (test_db, tenant_a, _) = behind(bouncer).await;
    let db = test_db.app_db(1);
    // Warm the one connection.
    let n = User::query().count(db.tenant(tenant_a)).await.unwrap();
    assert_eq!(n, 1);
    let su = test_db.superuser().await.unwrap();
    su.batch_execute("CREATE TYPE mood AS ENUM ('ok', 'meh')")
        .await
        .unwrap();
    let probe = async |db: &Db| {
        db.tenant(tenant_a)
            .run(async |tx| {
                let rows = tx
                    .raw_query("SELECT 'ok'::mood::text, 'meh'::mood", &[])
                    .await?;
                Ok(rows[0].get::<_, String>(0))
            })
            .await
    };
    match probe(&db).await {
        Err(e) => assert!(e.is_pooler_statement(), "{e}"),
        // (the connection may have been replaced meanwhile)
        Ok(text) => assert_eq!(text, "ok"),
    }
    // The failing connection was closed; its replacement is warmed afresh
    // and knows the new type.
    assert_eq!(probe(&db).await.unwrap(), "ok");
}

#[tokio::test]
async fn pooler_safe_migrations_through_pgbouncer_apply_each_migration_once() {
    use tenant_model::migrate::{MigrationError, Migrations, Migrator};

    let Some(bouncer) = bouncer("pooler_safe_migrations").await else {
        return;
    };
    let db = crate::migrate_support::FreshDb::new().await;
    let server = tenant_model::testing::server().await.unwrap();
    let through = bouncer.route(&server.database_config(&db.name));
    let migrations = Migrations::from_dir(crate::migrate_support::basic_dir()).unwrap();
    const V2: i64 = 20240102000000;

    // Four runners at once, each through the pooler.
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (migrations, through) = (migrations.clone(), through.clone());
        runs.spawn(async move {
            let (mut client, connection) = through
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            Migrator::new(&migrations)
                .pooler_safe()
                .up(&mut client, Some(V2))
                .await
                .map(|steps| steps.len())
                .map_err(|e| e.to_string())
        });
    }
    let mut applied = 0;
    while let Some(joined) = runs.join_next().await {
        applied += joined
            .expect("task")
            .expect("no runner fails because another runs");
    }
    assert_eq!(applied, 2, "each of the two migrations applied once in all");
    let su = db.client().await;
    let effects: Vec<(i64, i64)> = su
        .query(
            "SELECT version, count(*) FROM effects GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(effects, [(20240101000000, 1), (V2, 1)]);

    // The third migration must run outside a transaction: refused up front.
    let (mut client, connection) = through.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let refused = Migrator::new(&migrations)
        .pooler_safe()
        .up(&mut client, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Migration(MigrationError::Invalid { .. })),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("transaction-mode pooler"),
        "{refused}"
    );
    drop(client);
    drop(su);
    db.close().await;
}
