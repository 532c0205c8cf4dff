//! Errors a caller can act on, each produced for real as the application
//! role and mapped from its SQLSTATE.

use std::time::Duration;

use tenant_model::{Changes, Error, Executor, Model};

use crate::extra::Note;
use crate::models::User;
use crate::support::{app_db, seeded, user};

/// A `Db` whose application connections start every transaction as
/// `SERIALIZABLE` (a connection setting, so the library's pipelined
/// `BEGIN` needs no change).
fn serializable_db(db: &tenant_model::testing::TestDb) -> tenant_model::Db {
    let mut config = db.app_config();
    config.options("-c default_transaction_isolation=serializable");
    tenant_model::Db::from_pool(tenant_model::Db::pool_from_config(config, 2))
}

#[tokio::test]
async fn a_serialization_failure_is_retryable() {
    let seed = seeded().await;
    let db = serializable_db(&seed.db);
    let scope = db.tenant(seed.tenant_a);

    let mut first = scope.begin().await.unwrap();
    let level: String = first
        .raw_query("SHOW transaction_isolation", &[])
        .await
        .unwrap()[0]
        .get(0);
    assert_eq!(level, "serializable");
    first.find::<User>(seed.user_a).await.unwrap(); // takes the snapshot

    let mut second = scope.begin().await.unwrap();
    second
        .update::<User>(seed.user_a, Changes::new().set(User::FULL_NAME, "Second"))
        .await
        .unwrap();
    second.commit().await.unwrap();

    let err = first
        .update::<User>(seed.user_a, Changes::new().set(User::FULL_NAME, "First"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SerializationFailure { .. }), "{err}");
    assert_eq!(err.code(), Some("40001"));
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("could not serialize access"),
        "the server's message is shown: {err}"
    );
}

#[tokio::test]
async fn a_deadlock_is_retryable() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let other = db
        .tenant(seed.tenant_a)
        .insert(user("cy@acme.test"))
        .await
        .unwrap();
    let rename = |name: &'static str| Changes::new().set(User::FULL_NAME, name);

    let mut one = db.tenant(seed.tenant_a).begin().await.unwrap();
    let mut two = db.tenant(seed.tenant_a).begin().await.unwrap();
    one.update::<User>(seed.user_a, rename("one"))
        .await
        .unwrap();
    two.update::<User>(other.id, rename("two")).await.unwrap();
    // Each now waits for the row the other holds.
    let (a, b) = tokio::join!(
        one.update::<User>(other.id, rename("one")),
        two.update::<User>(seed.user_a, rename("two")),
    );
    let errors: Vec<Error> = [a, b].into_iter().filter_map(Result::err).collect();
    let [err] = errors.as_slice() else {
        panic!("exactly one side is aborted: {errors:?}");
    };
    assert!(matches!(err, Error::Deadlock { .. }), "{err}");
    assert_eq!(err.code(), Some("40P01"));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("deadlock detected"), "{err}");
}

#[tokio::test]
async fn a_statement_timeout_is_a_cancel_and_not_retryable() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.raw_execute("SET LOCAL statement_timeout = '50ms'", &[])
        .await
        .unwrap();
    let err = tx.raw_query("SELECT pg_sleep(5)", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Canceled { .. }), "{err}");
    assert!(err.is_canceled());
    assert!(!err.is_retryable());
    assert_eq!(err.code(), Some("57014"));
    assert!(err.to_string().contains("statement timeout"), "{err}");
}

#[tokio::test]
async fn a_value_too_long_names_its_column() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut scope = db.tenant(seed.tenant_a);

    // `title` is the only `varchar(120)` of Note: the typed insert names it.
    let err = scope.insert(Note::new(&"x".repeat(121))).await.unwrap_err();
    assert!(
        matches!(&err, Error::ValueTooLong { column: Some(c), .. } if c == "title"),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("22001"));
    assert_eq!(
        err.to_string(),
        "value too long for column title: value too long for type character varying(120)"
    );

    // Updates too.
    let note = scope.insert(Note::new("short")).await.unwrap();
    let err = scope
        .update::<Note>(note.id, Changes::new().set(Note::TITLE, "y".repeat(200)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ValueTooLong { column: Some(c), .. } if c == "title"),
        "{err:?}"
    );

    // User has two varchar(255) columns: which one is not guessed.
    let mut long = user("long@acme.test");
    long.full_name = "z".repeat(256);
    let err = scope.insert(long).await.unwrap_err();
    assert!(
        matches!(&err, Error::ValueTooLong { column: None, .. }),
        "{err:?}"
    );

    // Raw SQL: the server does not name the column, nor does the library.
    let mut tx = scope.begin().await.unwrap();
    let err = tx
        .raw_execute(
            "UPDATE notes SET title = $1 WHERE id = $2",
            &[&"w".repeat(121), &note.id],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ValueTooLong { column: None, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_statement_after_a_failed_one_reports_the_aborted_transaction() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let first = tx.raw_query("SELECT 1/0", &[]).await.unwrap_err();
    assert_eq!(first.code(), Some("22012"));
    assert_eq!(
        first.to_string(),
        "database error 22012: division by zero",
        "the server's message, not the driver's \"db error\""
    );
    let err = User::query().count(&mut tx).await.unwrap_err();
    assert!(matches!(err, Error::TransactionAborted { .. }), "{err}");
    assert_eq!(err.code(), Some("25P02"));
    assert!(!err.is_retryable());
    tx.rollback().await.unwrap();
}

/// PostgreSQL answers `COMMIT` in a transaction an error aborted with a
/// `ROLLBACK` and no error: a caller who let an error pass would be told
/// its work was committed when none of it was. The commit says so instead.
#[tokio::test]
async fn committing_a_transaction_an_error_aborted_is_refused_not_a_silent_rollback() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.insert(user("kept@acme.test")).await.unwrap();
    let duplicate = tx.insert(user("ann@acme.test")).await.unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, Error::TransactionAborted { .. }), "{err}");
    let stored = User::query()
        .filter(User::EMAIL.eq("kept@acme.test"))
        .count(db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(
        stored, 0,
        "the transaction was rolled back, as the error says"
    );

    // Recovered with a savepoint, the transaction commits as usual.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.raw_execute("SAVEPOINT s", &[]).await.unwrap();
    tx.insert(user("ann@acme.test")).await.unwrap_err();
    tx.raw_execute("ROLLBACK TO SAVEPOINT s", &[])
        .await
        .unwrap();
    tx.insert(user("kept@acme.test")).await.unwrap();
    tx.commit().await.unwrap();
    let stored = User::query()
        .filter(User::EMAIL.eq("kept@acme.test"))
        .count(db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_terminated_backend_is_a_lost_connection() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let su = seed.db.superuser().await.unwrap();
    let terminate = |pid: i32| {
        let su = &su;
        async move {
            // With a timeout, it returns once the backend has exited.
            su.execute("SELECT pg_terminate_backend($1, 10000)", &[&pid])
                .await
                .unwrap();
        }
    };

    // Terminated mid-statement: the statement gets the server's 57P01.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let pid: i32 = tx.raw_query("SELECT pg_backend_pid()", &[]).await.unwrap()[0].get(0);
    let (slept, ()) = tokio::join!(tx.raw_query("SELECT pg_sleep(30)", &[]), async {
        // Wait until the sleep is running, then end the backend.
        for _ in 0..500 {
            let sleeping: i64 = su
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep(30)%'",
                    &[&pid],
                )
                .await
                .unwrap()
                .get(0);
            if sleeping == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        terminate(pid).await;
    });
    let err = slept.unwrap_err();
    assert!(matches!(err, Error::AdminShutdown { .. }), "{err}");
    assert_eq!(err.code(), Some("57P01"));
    assert!(err.is_connection_lost());
    assert!(!err.is_retryable());
    // The next statement finds the connection closed.
    let err = tx.raw_query("SELECT 1", &[]).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err}");
    assert!(err.is_connection_lost());
    drop(tx);

    // Terminated while idle in the pool: the next checkout gets a working
    // connection (the pool notices the closed one).
    let pid: i32 = db
        .tenant(seed.tenant_a)
        .begin()
        .await
        .unwrap()
        .raw_query("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()[0]
        .get(0);
    terminate(pid).await;
    // Let the client's connection task read the server's goodbye.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let found = db
        .tenant(seed.tenant_a)
        .find::<User>(seed.user_a)
        .await
        .unwrap();
    assert_eq!(found.id, seed.user_a);
}

#[tokio::test]
async fn an_access_refusal_is_recognized_by_its_code_alone() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    // A 42501 worded as a server with German `lc_messages` would word an RLS
    // refusal: still a refusal.
    let err = tx
        .raw_execute(
            "DO $$ BEGIN RAISE EXCEPTION 'neue Zeile verletzt Policy für Sicherheit auf Zeilenebene für Tabelle »users«' USING ERRCODE = '42501'; END $$",
            &[],
        )
        .await
        .unwrap_err();
    assert!(err.is_rejected(), "{err}");
    assert_eq!(err.code(), Some("42501"));
    assert!(
        err.to_string().starts_with("access refused"),
        "the display says so whatever the message: {err}"
    );
    drop(tx);

    // A real RLS refusal is told apart by the routine that raised it.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let err = tx
        .raw_execute(
            "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'm@globex.test', 'M')",
            &[&seed.tenant_b],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RowSecurity { .. }), "{err}");
    assert_eq!(
        err.db_error().and_then(|db| db.routine()),
        Some("ExecWithCheckOptions")
    );
    assert!(err.is_rejected());
    drop(tx);
}
