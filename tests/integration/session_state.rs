//! The pool hands the next tenant nothing: whatever raw SQL leaves on a
//! session (temp tables, held cursors, session settings, listens, advisory
//! locks, SQL-level prepared statements), even past a raw `COMMIT`, is
//! gone before the connection serves its next checkout. Each test runs on a
//! pool of one connection as the application role and checks that both
//! checkouts ran on the same server backend. Also: nothing waits forever
//! (pool timeouts, a hanging rollback on drop) and nothing grows forever
//! (the per-connection statement cache).

use std::time::{Duration, Instant};

use tenant_model::{Db, Error, Executor, Filter, Model, PoolTimeouts, TimeoutKind, Tx};

use crate::models::User;
use crate::support::{app_db, count, seeded, user, Seed};

/// The server backend serving `tx`.
async fn pid(tx: &mut Tx) -> i32 {
    tx.raw_query("SELECT pg_backend_pid()", &[])
        .await
        .expect("backend pid")[0]
        .get(0)
}

/// Runs `statements` as tenant A in one committed transaction and returns
/// the backend pid it ran on.
async fn leave_behind(db: &Db, seed: &Seed, statements: &[&str]) -> i32 {
    let mut tx = db.tenant(seed.tenant_a).begin().await.expect("begin");
    let pid = pid(&mut tx).await;
    for sql in statements {
        tx.raw_execute(sql, &[]).await.expect(sql);
    }
    tx.commit().await.expect("commit");
    pid
}

/// Tenant B's checkout: asserts it runs on `expected_pid` and returns the
/// single value `sql` selects.
async fn next_checkout<T>(db: &Db, seed: &Seed, expected_pid: i32, sql: &str) -> T
where
    T: for<'a> tokio_postgres::types::FromSql<'a>,
{
    let mut tx = db.tenant(seed.tenant_b).begin().await.expect("begin");
    assert_eq!(
        pid(&mut tx).await,
        expected_pid,
        "the next checkout runs on the same backend"
    );
    let value = tx.raw_query(sql, &[]).await.expect(sql)[0].get(0);
    tx.commit().await.expect("commit");
    value
}

/// A checkout outside any library transaction: asserts it runs on
/// `expected_pid`, and that the session carries no tenant context and sees
/// no rows.
async fn assert_bare_session_is_clean(db: &Db, expected_pid: i32) {
    let conn = db.pool().get().await.expect("checkout");
    let row = conn
        .query_one(
            "SELECT pg_backend_pid(), current_setting('app.tenant_id', true), \
             (SELECT count(*) FROM users)",
            &[],
        )
        .await
        .expect("query");
    assert_eq!(row.get::<_, i32>(0), expected_pid, "same backend");
    assert_eq!(
        row.get::<_, Option<String>>(1).unwrap_or_default(),
        "",
        "no tenant context survives"
    );
    assert_eq!(
        row.get::<_, i64>(2),
        0,
        "without a context nothing is visible"
    );
}

#[tokio::test]
async fn a_temp_table_does_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(
        &db,
        &seed,
        &["CREATE TEMP TABLE leak AS SELECT email FROM users"],
    )
    .await;
    let visible: bool = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT to_regclass('pg_temp.leak') IS NOT NULL",
    )
    .await;
    assert!(!visible, "tenant A's temp table is gone");
}

#[tokio::test]
async fn a_held_cursor_does_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(
        &db,
        &seed,
        &["DECLARE leak CURSOR WITH HOLD FOR SELECT email FROM users"],
    )
    .await;
    let open: i64 = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT count(*) FROM pg_cursors WHERE name = 'leak'",
    )
    .await;
    assert_eq!(open, 0, "tenant A's WITH HOLD cursor is closed");
}

#[tokio::test]
async fn session_settings_do_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let set_a = format!("SET app.tenant_id = '{}'", seed.tenant_a);
    let pid = leave_behind(
        &db,
        &seed,
        &[
            &set_a,
            "SET statement_timeout = 1234",
            "SELECT set_config('app.custom', 'from tenant a', false)",
            "SET SESSION search_path = pg_catalog",
        ],
    )
    .await;
    let settings: String = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT concat_ws('|', current_setting('statement_timeout'), \
         current_setting('app.custom', true), current_setting('search_path'))",
    )
    .await;
    assert_eq!(settings, "0||\"$user\", public");

    // A checkout without any context sees no tenant and no rows.
    assert_bare_session_is_clean(&db, pid).await;
}

#[tokio::test]
async fn a_role_switch_does_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(&db, &seed, &["SET ROLE tenant_model_app"]).await;
    let same: bool = next_checkout(&db, &seed, pid, "SELECT current_user = session_user").await;
    assert!(same, "the session's role is reset");
}

#[tokio::test]
async fn a_listen_does_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(&db, &seed, &["LISTEN tenant_a_events"]).await;
    let channels: i64 = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT count(*) FROM pg_listening_channels()",
    )
    .await;
    assert_eq!(channels, 0, "tenant A's LISTEN is gone");
}

#[tokio::test]
async fn an_advisory_lock_does_not_outlive_its_checkout() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(&db, &seed, &["SELECT pg_advisory_lock(4242)"]).await;
    let held: i64 = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    )
    .await;
    assert_eq!(held, 0, "the session holds no advisory lock");
    // Another connection can take the lock.
    let other = seed.db.app().await.expect("second connection");
    let free: bool = other
        .query_one("SELECT pg_try_advisory_lock(4242)", &[])
        .await
        .expect("try lock")
        .get(0);
    assert!(free, "the lock was released");
}

#[tokio::test]
async fn an_sql_prepared_statement_does_not_reach_the_next_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    // Warm the driver's own (protocol-level) statements first.
    db.tenant(seed.tenant_a)
        .insert(user("warm@acme.test"))
        .await
        .expect("typed insert");
    let pid = leave_behind(&db, &seed, &["PREPARE leak AS SELECT email FROM users"]).await;
    let from_sql: i64 = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT count(*) FROM pg_prepared_statements WHERE from_sql",
    )
    .await;
    assert_eq!(from_sql, 0, "tenant A's PREPARE is deallocated");
    // The driver's statements are intact: the typed path still works.
    let found = db
        .tenant(seed.tenant_b)
        .get::<User>(seed.user_b)
        .await
        .expect("the cached typed statement still runs");
    assert!(found.is_some());
}

#[tokio::test]
async fn a_raw_commit_mid_transaction_leaves_nothing_behind() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    // After the raw COMMIT, later statements run outside the transaction.
    let set_a = format!("SET app.tenant_id = '{}'", seed.tenant_a);
    let pid = leave_behind(
        &db,
        &seed,
        &[
            "COMMIT",
            &set_a,
            "CREATE TEMP TABLE late AS SELECT 1 AS one",
            "SELECT pg_advisory_lock(7)",
        ],
    )
    .await;
    let leftovers: String = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT concat_ws('|', to_regclass('pg_temp.late') IS NULL, \
         (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()))",
    )
    .await;
    assert_eq!(leftovers, "t|0");
    assert_bare_session_is_clean(&db, pid).await;

    // The same, when the transaction is dropped instead of committed.
    let mut tx = db.tenant(seed.tenant_a).begin().await.expect("begin");
    tx.raw_execute("COMMIT", &[]).await.expect("raw commit");
    tx.raw_execute("CREATE TEMP TABLE dropped AS SELECT 1 AS one", &[])
        .await
        .expect("temp table");
    tx.raw_execute(&set_a, &[]).await.expect("session set");
    drop(tx);
    let gone: bool = next_checkout(
        &db,
        &seed,
        pid,
        "SELECT to_regclass('pg_temp.dropped') IS NULL",
    )
    .await;
    assert!(gone, "the temp table made after the raw COMMIT is gone");
    assert_bare_session_is_clean(&db, pid).await;
}

#[tokio::test]
async fn a_raw_filter_fragment_on_a_scope_leaves_nothing_behind() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let pid = leave_behind(&db, &seed, &[]).await;
    // A one-statement helper whose raw fragment sets the tenant for the
    // whole session and takes a session lock.
    let fragment = Filter::<User>::sql(
        "set_config('app.tenant_id', $1, false) IS NOT NULL AND pg_advisory_lock(99) IS NOT NULL",
        vec![Box::new(seed.tenant_a.to_string())],
    );
    let found = User::query()
        .filter(fragment)
        .all(&mut db.tenant(seed.tenant_a))
        .await
        .expect("query");
    assert_eq!(found.len(), 1, "the fragment still filters as written");
    assert_bare_session_is_clean(&db, pid).await;
    let other = seed.db.app().await.expect("second connection");
    let free: bool = other
        .query_one("SELECT pg_try_advisory_lock(99)", &[])
        .await
        .expect("try lock")
        .get(0);
    assert!(free, "the fragment's lock was released");
}

#[tokio::test]
async fn the_typed_path_sends_no_cleanup() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    // A marker outside any library transaction: only a cleanup would drop it.
    let conn = db.pool().get().await.expect("checkout");
    conn.batch_execute("CREATE TEMP TABLE marker (x int)")
        .await
        .expect("marker");
    drop(conn);
    let mut scope = db.tenant(seed.tenant_a);
    scope.insert(user("t@acme.test")).await.expect("insert");
    let mut tx = scope.begin().await.expect("begin");
    User::query().all(&mut tx).await.expect("query");
    tx.commit().await.expect("commit");
    let conn = db.pool().get().await.expect("checkout");
    let kept = count(
        &**conn,
        "SELECT count(*) FROM pg_class WHERE relname = 'marker' AND relpersistence = 't'",
    )
    .await;
    assert_eq!(kept, 1, "typed statements are not followed by a cleanup");
}

#[tokio::test]
async fn raw_and_dynamic_sql_cannot_grow_the_statement_cache_without_bound() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    db.tenant(seed.tenant_a)
        .insert(user("cached@acme.test"))
        .await
        .expect("typed insert");
    let n = tenant_model::STATEMENT_CACHE_SIZE * 3;
    let mut tx = db.tenant(seed.tenant_a).begin().await.expect("begin");
    for i in 0..n {
        let rows = tx
            .raw_query(&format!("SELECT $1::int + {i}"), &[&1i32])
            .await
            .expect("raw");
        assert_eq!(rows[0].get::<_, i32>(0), 1 + i as i32);
    }
    // Query builder output: a distinct statement per number of filters.
    for k in 1..60 {
        let filters = (0..k).map(|i| Filter::sql_dynamic(format!("{i} = {i}"), vec![]));
        let mut query = User::query();
        for filter in filters {
            query = query.filter(filter);
        }
        query.all(&mut tx).await.expect("query");
    }
    tx.commit().await.expect("commit");

    let conn = db.pool().get().await.expect("checkout");
    let cached = conn.statement_cache.size();
    assert!(
        cached <= tenant_model::STATEMENT_CACHE_SIZE + 16,
        "{cached} statements cached after {n} distinct raw statements"
    );
    let on_server = count(&**conn, "SELECT count(*) FROM pg_prepared_statements").await;
    assert!(
        on_server <= tenant_model::STATEMENT_CACHE_SIZE as i64 + 16,
        "{on_server} statements prepared on the server"
    );
    // The typed insert is still prepared.
    let insert = count(
        &**conn,
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO users %'",
    )
    .await;
    assert_eq!(insert, 1, "the typed statements stay cached");
}

#[tokio::test]
async fn pools_have_timeouts_by_default_and_a_full_pool_times_out_typed() {
    let seed = seeded().await;
    let defaults = PoolTimeouts::default();
    let pool = Db::pool_from_config(seed.db.app_config(), 1);
    let timeouts = pool.timeouts();
    assert_eq!(timeouts.wait, Some(defaults.wait));
    assert_eq!(timeouts.create, Some(defaults.create));
    assert_eq!(timeouts.recycle, Some(defaults.recycle));

    let short = PoolTimeouts {
        wait: Duration::from_millis(200),
        ..PoolTimeouts::default()
    };
    let db = Db::from_pool(Db::pool_with(seed.db.app_config(), 1, short));
    let held = db
        .tenant(seed.tenant_a)
        .begin()
        .await
        .expect("the one slot");
    let started = Instant::now();
    let err = db
        .tenant(seed.tenant_a)
        .begin()
        .await
        .expect_err("the pool is exhausted");
    assert!(
        matches!(err, Error::PoolTimeout(TimeoutKind::Wait)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_typed() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let port = listener.local_addr().expect("address").port();
    let silent = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("nobody")
        .dbname("none");
    let short = PoolTimeouts {
        create: Duration::from_millis(300),
        ..PoolTimeouts::default()
    };
    let db = Db::from_pool(Db::pool_with(config, 1, short));
    let started = Instant::now();
    let err = db
        .tenant(tenant_model::TenantId::from(uuid::Uuid::nil()))
        .begin()
        .await
        .expect_err("no answer");
    assert!(
        matches!(err, Error::PoolTimeout(TimeoutKind::Create)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    silent.abort();
}

/// A statement that keeps the backend busy for `$1` seconds.
const SLEEP: &str = "SELECT pg_sleep($1)";

#[tokio::test]
async fn a_dropped_transaction_whose_rollback_hangs_frees_its_slot() {
    let seed = seeded().await;
    let bound = Duration::from_millis(500);
    let timeouts = PoolTimeouts {
        recycle: bound,
        wait: Duration::from_secs(10),
        ..PoolTimeouts::default()
    };
    let db = Db::from_pool(Db::pool_with(seed.db.app_config(), 1, timeouts));
    // Warm the statement cache so the sleep goes out on its first poll.
    let mut tx = db.tenant(seed.tenant_a).begin().await.expect("begin");
    tx.raw_query(SLEEP, &[&0.0f64]).await.expect("warm up");
    tx.commit().await.expect("commit");
    let first = {
        let mut tx = db.tenant(seed.tenant_a).begin().await.expect("begin");
        let pid = pid(&mut tx).await;
        // The sleep is in flight on the server when the Tx is dropped: the
        // ROLLBACK queues behind it.
        tokio::select! {
            biased;
            _ = tx.raw_query(SLEEP, &[&10.0f64]) => panic!("the sleep cannot win"),
            _ = std::future::ready(()) => {}
        }
        drop(tx);
        pid
    };
    let started = Instant::now();
    let mut tx = db.tenant(seed.tenant_b).begin().await.expect("a slot");
    let waited = started.elapsed();
    assert!(
        waited < bound + Duration::from_secs(2),
        "the slot came back after {waited:?}"
    );
    assert_ne!(
        pid(&mut tx).await,
        first,
        "the hung connection was closed, not reused"
    );
    tx.commit().await.expect("commit");
}
