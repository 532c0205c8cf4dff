//! The tenant context never outlives its transaction: a pooled connection
//! is clean for its next user after commit, rollback, error, panic and a
//! dropped transaction. The pool has one connection, so every check runs
//! on the very connection the previous step used.

use tenant_model::Model;
use tenant_model::{Error, Executor, TenantId};

use crate::support::{app_db, seeded, user};

/// The one pooled connection carries no tenant context and no open
/// transaction, and sees nothing without a context.
pub(crate) async fn assert_clean(db: &tenant_model::Db) {
    let conn = db
        .pool()
        .get()
        .await
        .expect("the pool's connection comes back");
    // Unnamed (`query_typed`): one message flight, which a transaction-mode
    // pooler runs on one server connection.
    let row = conn
        .query_typed_one(
            "SELECT current_setting('app.tenant_id', true), (SELECT count(*) FROM users)",
            &[],
        )
        .await
        .expect("the connection is usable");
    let setting: Option<String> = row.get(0);
    assert!(
        setting.unwrap_or_default().is_empty(),
        "no tenant context is left in the session"
    );
    assert_eq!(
        row.get::<_, i64>(1),
        0,
        "without a context nothing is visible"
    );
    // With the simple protocol, a statement that starts its own
    // transaction has now() = statement_timestamp(); inside a transaction
    // left open earlier, now() would be older.
    let fresh = conn
        .simple_query("SELECT now() = statement_timestamp()")
        .await
        .expect("simple query")
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        });
    assert_eq!(fresh.as_deref(), Some("t"), "no transaction is left open");
}

#[tokio::test]
async fn after_commit() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.insert(user("c@acme.test")).await.unwrap();
    tx.commit().await.unwrap();
    assert_clean(&db).await;
    // One-statement helpers, too.
    db.tenant(seed.tenant_a)
        .insert(user("d@acme.test"))
        .await
        .unwrap();
    assert_clean(&db).await;
}

#[tokio::test]
async fn after_rollback() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let inserted = tx.insert(user("c@acme.test")).await.unwrap();
    tx.rollback().await.unwrap();
    assert_clean(&db).await;
    let found = db
        .tenant(seed.tenant_a)
        .get::<crate::models::User>(inserted.id)
        .await
        .unwrap();
    assert!(found.is_none(), "the rolled-back insert is gone");
}

#[tokio::test]
async fn after_an_error() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let err = tx
        .insert(user("ann@acme.test"))
        .await
        .expect_err("duplicate email");
    assert!(err.is_unique_violation(), "{err}");
    drop(tx);
    assert_clean(&db).await;

    // A failing one-statement helper as well.
    let err = db
        .tenant(seed.tenant_a)
        .insert(user("ann@acme.test"))
        .await
        .expect_err("duplicate");
    assert!(err.is_unique_violation());
    assert_clean(&db).await;

    // And the closure form returning Err.
    let result: Result<(), Error> = db
        .tenant(seed.tenant_a)
        .run(async |tx| {
            tx.insert(user("e@acme.test")).await?;
            Err(Error::InvalidQuery("the caller gives up".into()))
        })
        .await;
    assert!(result.is_err());
    assert_clean(&db).await;
    let n = crate::models::User::query()
        .filter(crate::models::User::EMAIL.eq("e@acme.test"))
        .count(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(n, 0, "Err rolled the closure's insert back");
}

#[tokio::test]
async fn after_a_panic_inside_the_closure() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let tenant: TenantId = seed.tenant_a.into();
    let task_db = db.clone();
    let joined = tokio::spawn(async move {
        let _: Result<(), Error> = task_db
            .tenant(tenant)
            .run(async |tx| {
                tx.insert(user("p@acme.test")).await?;
                panic!("handler bug");
            })
            .await;
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_clean(&db).await;
    let n = crate::models::User::query()
        .filter(crate::models::User::EMAIL.eq("p@acme.test"))
        .count(&mut db.tenant(tenant))
        .await
        .unwrap();
    assert_eq!(n, 0, "the panic rolled the insert back");
}

#[tokio::test]
async fn after_a_dropped_transaction() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.insert(user("x@acme.test")).await.unwrap();
    drop(tx);
    assert_clean(&db).await;

    // A transaction dropped before it sent anything costs nothing.
    let tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    drop(tx);
    assert_clean(&db).await;
}

#[tokio::test]
async fn after_a_cancelled_statement_future() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    // Warm the connection's statement cache, so the next first statement
    // goes out (with BEGIN and the context) on its first poll.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.raw_query("SELECT pg_sleep(0.2)", &[]).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    // Cancel the first statement after BEGIN and the context went out, by
    // racing it against a ready future, then drop the transaction.
    tokio::select! {
        biased;
        _ = tx.raw_query("SELECT pg_sleep(0.2)", &[]) => panic!("the sleep cannot win"),
        _ = std::future::ready(()) => {}
    }
    drop(tx);
    assert_clean(&db).await;
}

#[tokio::test]
async fn the_next_tenant_on_the_connection_sees_only_its_rows() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let a = crate::models::User::query()
        .all(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    let b = crate::models::User::query()
        .all(&mut db.tenant(seed.tenant_b))
        .await
        .unwrap();
    assert_eq!(
        a.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["ann@acme.test"]
    );
    assert_eq!(
        b.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["bob@globex.test"]
    );
}

/// 32 concurrent tasks on 16 pooled connections (more than PgBouncer's
/// server pool when the tests run behind it): commits, rollbacks, errors and
/// dropped transactions of two tenants interleave, and every transaction
/// starts with exactly its own context, never one left by another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_tasks_never_inherit_a_context() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 16);
    let (a, b) = (seed.tenant_a, seed.tenant_b);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32usize {
        let db = db.clone();
        tasks.spawn(async move {
            let mine = if t % 2 == 0 { a } else { b };
            for i in 0..12usize {
                let mut tx = db.tenant(mine).begin().await.unwrap();
                let context: String = tx
                    .raw_query("SELECT current_setting('app.tenant_id')", &[])
                    .await
                    .unwrap()[0]
                    .get(0);
                assert_eq!(context, mine.to_string());
                let users = crate::models::User::query().all(&mut tx).await.unwrap();
                assert!(users.iter().all(|u| u.tenant_id() == Some(mine.into())));
                match i % 4 {
                    0 => tx.commit().await.unwrap(),
                    1 => tx.rollback().await.unwrap(),
                    2 => {
                        let failed = tx.raw_execute("SELECT 1/0", &[]).await;
                        assert!(failed.is_err());
                        drop(tx);
                    }
                    _ => drop(tx),
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    // Outside any transaction, no context is left anywhere the pool reaches.
    for _ in 0..16 {
        assert_clean(&db).await;
    }
}
