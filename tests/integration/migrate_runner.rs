//! The migration runner on a real PostgreSQL: concurrency, atomicity,
//! checksums, up/down, no-transaction migrations, lock_timeout, dry runs,
//! baseline, status, embedded migrations and the command line. Migrations
//! run as the owner (a superuser here) on an empty database of their own.

use std::time::{Duration, Instant};

use tenant_model::migrate::{
    DownTarget, MigrationError, MigrationState, Migrations, Migrator, StatusTable,
};
use tenant_model::Error;

use crate::migrate_support::{basic_dir, catalog, ledger, ledger_exists, FreshDb, TempMigrations};
use crate::models;

const V1: i64 = 20240101000000;
const V2: i64 = 20240102000000;
const V3: i64 = 20240103000000;

fn basic() -> Migrations {
    Migrations::from_dir(basic_dir()).expect("the basic fixture")
}

/// How often each migration's effect ran: `(version, count)` by version.
async fn effects(client: &tokio_postgres::Client) -> Vec<(i64, i64)> {
    client
        .query(
            "SELECT version, count(*) FROM effects GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .expect("effects")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

fn versions(ledger: &[(i64, String, String)]) -> Vec<i64> {
    ledger.iter().map(|(v, _, _)| *v).collect()
}

#[tokio::test]
async fn four_runners_at_once_apply_each_migration_exactly_once() {
    let db = FreshDb::new().await;
    let migrations = basic();
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(db.client().await);
    }
    let runs = clients.into_iter().map(|mut client| {
        let migrations = migrations.clone();
        tokio::spawn(async move { Migrator::new(&migrations).up(&mut client, None).await })
    });
    let results = futures_util::future::join_all(runs).await;
    let mut applied = Vec::new();
    for result in results {
        let steps = result
            .expect("the runner task")
            .expect("no runner fails because another runs");
        applied.extend(steps.into_iter().map(|s| s.version));
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        [V1, V2, V3],
        "each migration applied by exactly one runner"
    );

    let client = db.client().await;
    assert_eq!(versions(&ledger(&client).await), [V1, V2, V3]);
    assert_eq!(effects(&client).await, [(V1, 1), (V2, 1), (V3, 1)]);
    db.close().await;
}

#[tokio::test]
async fn a_failing_migration_leaves_the_database_and_the_ledger_as_before() {
    let failures = [
        ("syntax error", "CREATE TABLE b (x int);\nCREATE TABLEE broken (y int);"),
        (
            "constraint violation",
            "CREATE TABLE b (x int NOT NULL);\nINSERT INTO b VALUES (1);\nINSERT INTO b VALUES (NULL);",
        ),
    ];
    for (what, second) in failures {
        let files = TempMigrations::new(&[
            (
                "20240101000000_a",
                "CREATE TABLE a (x int PRIMARY KEY);",
                None,
            ),
            ("20240102000000_b", second, None),
            ("20240103000000_c", "CREATE TABLE c (x int);", None),
        ]);
        let migrations = files.load();
        let db = FreshDb::new().await;
        let mut client = db.client().await;
        let migrator = Migrator::new(&migrations);
        migrator
            .up(&mut client, Some(V1))
            .await
            .expect("the first migration");
        let (catalog_before, ledger_before) = (catalog(&client).await, ledger(&client).await);

        let err = migrator.up(&mut client, None).await.unwrap_err();
        match &err {
            Error::Migration(MigrationError::Failed {
                version,
                name,
                statement,
                ..
            }) => {
                assert_eq!(
                    (*version, name.as_str(), *statement),
                    (V2, "b", None),
                    "{what}"
                );
            }
            other => panic!("{what}: expected Failed naming the migration, got {other:?}"),
        }
        assert!(err.to_string().contains("20240102000000_b"), "{err}");
        assert_eq!(
            catalog(&client).await,
            catalog_before,
            "{what}: the catalog is unchanged"
        );
        assert_eq!(
            ledger(&client).await,
            ledger_before,
            "{what}: the ledger is unchanged"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn an_applied_migration_edited_or_removed_is_refused_by_name() {
    let files = TempMigrations::new(&[
        (
            "20240101000000_a",
            "CREATE TABLE a (x int);",
            Some("DROP TABLE a;"),
        ),
        (
            "20240102000000_b",
            "CREATE TABLE b (x int);",
            Some("DROP TABLE b;"),
        ),
    ]);
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    Migrator::new(&files.load())
        .up(&mut client, Some(V1))
        .await
        .expect("up");

    TempMigrations::write(
        &files.dir,
        "20240101000000_a",
        "CREATE TABLE a (x bigint);",
        Some("DROP TABLE a;"),
    );
    let edited = files.load();
    let ledger_before = ledger(&client).await;
    for result in [
        Migrator::new(&edited).up(&mut client, None).await,
        Migrator::new(&edited)
            .down(&mut client, DownTarget::One)
            .await,
        Migrator::new(&edited).baseline(&mut client, None).await,
    ] {
        match result.unwrap_err() {
            Error::Migration(MigrationError::ChecksumMismatch { version, name, .. }) => {
                assert_eq!((version, name.as_str()), (V1, "a"));
            }
            other => panic!("expected ChecksumMismatch, got {other:?}"),
        }
    }
    let err = Migrator::new(&edited)
        .up_dry_run(&client, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("20240101000000_a was changed after it was applied"),
        "{err}"
    );
    assert_eq!(ledger(&client).await, ledger_before, "nothing ran");
    assert!(
        catalog(&client)
            .await
            .iter()
            .all(|l| !l.contains("table b")),
        "b was not applied"
    );

    std::fs::remove_dir_all(files.dir.join("20240101000000_a")).expect("remove a");
    let err = Migrator::new(&files.load())
        .up(&mut client, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Migration(MigrationError::Missing { version: V1, name }) if name == "a"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("20240101000000_a is applied but missing"),
        "{err}"
    );
    db.close().await;
}

#[tokio::test]
async fn status_reports_applied_pending_changed_and_missing() {
    let files = TempMigrations::new(&[
        ("20240101000000_a", "CREATE TABLE a (x int);", None),
        ("20240102000000_b", "CREATE TABLE b (x int);", None),
        ("20240103000000_c", "CREATE TABLE c (x int);", None),
    ]);
    let db = FreshDb::new().await;
    let mut client = db.client().await;

    let status = Migrator::new(&files.load())
        .status(&client)
        .await
        .expect("status");
    assert!(status.iter().all(|s| s.state == MigrationState::Pending));
    assert!(!ledger_exists(&client).await, "status creates nothing");

    Migrator::new(&files.load())
        .up(&mut client, Some(V2))
        .await
        .expect("up");
    TempMigrations::write(
        &files.dir,
        "20240102000000_b",
        "CREATE TABLE b (x text);",
        None,
    );
    std::fs::remove_dir_all(files.dir.join("20240101000000_a")).expect("remove a");
    let status = Migrator::new(&files.load())
        .status(&client)
        .await
        .expect("status");
    let states: Vec<(i64, &str, MigrationState)> = status
        .iter()
        .map(|s| (s.version, s.name.as_str(), s.state))
        .collect();
    assert_eq!(
        states,
        [
            (V1, "a", MigrationState::Missing),
            (V2, "b", MigrationState::Changed),
            (V3, "c", MigrationState::Pending),
        ]
    );
    assert!(status[0].applied_at.is_some() && status[0].duration.is_some());
    assert!(status[2].applied_at.is_none());
    let table = StatusTable(&status).to_string();
    assert!(table.contains("20240102000000  b     CHANGED"), "{table}");
    db.close().await;
}

#[tokio::test]
async fn down_reverses_up_and_targets_pick_versions() {
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = basic();
    let migrator = Migrator::new(&migrations);
    let empty = catalog(&client).await;

    let steps = migrator.up(&mut client, Some(V1)).await.expect("up to V1");
    assert_eq!(steps.iter().map(|s| s.version).collect::<Vec<_>>(), [V1]);
    let at_v1 = catalog(&client).await;
    assert!(
        at_v1
            .iter()
            .any(|l| l.starts_with("policy items items_tenant")),
        "{at_v1:?}"
    );
    assert!(
        at_v1
            .iter()
            .any(|l| l.starts_with("type item_kind e small,large")),
        "{at_v1:?}"
    );

    migrator.up(&mut client, Some(V2)).await.expect("up to V2");
    assert_eq!(versions(&ledger(&client).await), [V1, V2]);
    let at_v2 = catalog(&client).await;
    migrator.up(&mut client, None).await.expect("up");
    assert_eq!(versions(&ledger(&client).await), [V1, V2, V3]);

    let reverted = migrator
        .down(&mut client, DownTarget::One)
        .await
        .expect("down one");
    assert_eq!(reverted.iter().map(|s| s.version).collect::<Vec<_>>(), [V3]);
    assert_eq!(
        catalog(&client).await,
        at_v2,
        "down of V3 restores the catalog at V2"
    );

    migrator.up(&mut client, None).await.expect("up again");
    let reverted = migrator
        .down(&mut client, DownTarget::To(V1))
        .await
        .expect("down to V1");
    assert_eq!(
        reverted.iter().map(|s| s.version).collect::<Vec<_>>(),
        [V3, V2]
    );
    assert_eq!(versions(&ledger(&client).await), [V1]);
    assert_eq!(
        catalog(&client).await,
        at_v1,
        "down to V1 restores the catalog at V1"
    );

    migrator
        .down(&mut client, DownTarget::All)
        .await
        .expect("down all");
    assert_eq!(
        catalog(&client).await,
        empty,
        "down reverses up: the catalog is as before"
    );
    assert!(ledger(&client).await.is_empty());

    let err = migrator
        .up(&mut client, Some(20990101000000))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Migration(MigrationError::UnknownTarget {
                version: 20990101000000
            })
        ),
        "{err:?}"
    );
    db.close().await;
}

#[tokio::test]
async fn a_migration_without_down_sql_cannot_be_reverted() {
    let files = TempMigrations::new(&[
        ("20240101000000_a", "CREATE TABLE a (x int);", None),
        (
            "20240102000000_b",
            "CREATE TABLE b (x int);",
            Some("DROP TABLE b;"),
        ),
    ]);
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = files.load();
    Migrator::new(&migrations)
        .up(&mut client, None)
        .await
        .expect("up");
    let err = Migrator::new(&migrations)
        .down(&mut client, DownTarget::All)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Migration(MigrationError::MissingDown { version: V1, name }) if name == "a"),
        "{err:?}"
    );
    assert_eq!(
        versions(&ledger(&client).await),
        [V1, V2],
        "checked before anything ran"
    );
    db.close().await;
}

#[tokio::test]
async fn a_no_transaction_migration_creates_an_index_concurrently() {
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = basic();
    assert!(migrations.get(V3).expect("V3").no_transaction());
    Migrator::new(&migrations)
        .up(&mut client, None)
        .await
        .expect("up");
    let valid: bool = client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_items_name'::regclass",
            &[],
        )
        .await
        .expect("the index exists")
        .get(0);
    assert!(valid);
    assert_eq!(effects(&client).await.last(), Some(&(V3, 1)));
    let lock_timeout: String = client
        .query_one("SHOW lock_timeout", &[])
        .await
        .expect("show")
        .get(0);
    assert_eq!(lock_timeout, "0", "the session's lock_timeout is restored");
    db.close().await;
}

#[tokio::test]
async fn ddl_on_a_busy_table_fails_fast_with_a_typed_lock_timeout() {
    let files = TempMigrations::new(&[
        ("20240101000000_busy", "CREATE TABLE busy (x int);", None),
        (
            "20240102000000_alter_busy",
            "ALTER TABLE busy ADD COLUMN y int;",
            None,
        ),
    ]);
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = files.load();
    let migrator = Migrator::new(&migrations).lock_timeout(Duration::from_millis(300));
    migrator.up(&mut client, Some(V1)).await.expect("up to V1");

    let mut holder = db.client().await;
    let tx = holder.transaction().await.expect("begin");
    tx.batch_execute("SELECT * FROM busy")
        .await
        .expect("hold an ACCESS SHARE lock");
    let ledger_before = ledger(&client).await;

    let started = Instant::now();
    let err = migrator.up(&mut client, None).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed fast: {:?}",
        started.elapsed()
    );
    match &err {
        Error::Migration(MigrationError::LockTimeout {
            version,
            name,
            lock_timeout,
            ..
        }) => {
            assert_eq!((*version, name.as_str()), (V2, "alter_busy"));
            assert_eq!(*lock_timeout, Duration::from_millis(300));
        }
        other => panic!("expected LockTimeout, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("20240102000000_alter_busy") && message.contains("busy"),
        "{message}"
    );
    assert_eq!(
        ledger(&client).await,
        ledger_before,
        "the ledger is unchanged"
    );

    tx.rollback().await.expect("release");
    migrator
        .up(&mut client, None)
        .await
        .expect("up once the table is free");
    assert_eq!(versions(&ledger(&client).await), [V1, V2]);
    db.close().await;
}

#[tokio::test]
async fn a_dry_run_returns_the_sql_and_changes_nothing() {
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = basic();
    let migrator = Migrator::new(&migrations);

    let plan = migrator.up_dry_run(&client, None).await.expect("dry run");
    assert_eq!(
        plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [V1, V2, V3]
    );
    assert!(plan.steps[2].no_transaction);
    let text = plan.to_string();
    assert!(text.contains("CREATE TABLE items ("), "{text}");
    assert!(
        text.contains("-- 20240103000000_index_items_name (up): outside a transaction"),
        "{text}"
    );
    assert!(catalog(&client).await.is_empty(), "nothing created");
    assert!(!ledger_exists(&client).await, "not even the ledger table");

    migrator.up(&mut client, Some(V2)).await.expect("up to V2");
    let (catalog_before, ledger_before) = (catalog(&client).await, ledger(&client).await);
    let plan = migrator
        .down_dry_run(&client, DownTarget::All)
        .await
        .expect("down dry run");
    assert_eq!(
        plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [V2, V1]
    );
    assert!(plan.to_string().contains("DROP TABLE tags;"));
    let plan = migrator
        .up_dry_run(&client, None)
        .await
        .expect("up dry run");
    assert_eq!(
        plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [V3]
    );
    assert_eq!(catalog(&client).await, catalog_before);
    assert_eq!(ledger(&client).await, ledger_before);
    db.close().await;
}

#[tokio::test]
async fn baseline_records_without_running_and_up_then_runs_nothing() {
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let migrations = basic();
    let migrator = Migrator::new(&migrations);
    // An existing database, made without the runner.
    client
        .batch_execute(migrations.get(V1).expect("V1").up_sql())
        .await
        .expect("the existing schema");
    let existing = catalog(&client).await;

    let recorded = migrator
        .baseline(&mut client, Some(V1))
        .await
        .expect("baseline to V1");
    assert_eq!(recorded.iter().map(|s| s.version).collect::<Vec<_>>(), [V1]);
    assert_eq!(catalog(&client).await, existing, "baseline runs nothing");
    let status = migrator.status(&client).await.expect("status");
    assert_eq!(status[0].state, MigrationState::Applied);
    assert_eq!(status[1].state, MigrationState::Pending);

    migrator
        .baseline(&mut client, None)
        .await
        .expect("baseline the rest");
    assert_eq!(versions(&ledger(&client).await), [V1, V2, V3]);
    assert!(
        migrator.up(&mut client, None).await.expect("up").is_empty(),
        "up runs nothing"
    );
    assert_eq!(catalog(&client).await, existing);
    assert_eq!(
        effects(&client).await,
        [(V1, 1)],
        "only the hand-made run's effect"
    );
    db.close().await;
}

#[tokio::test]
async fn embedded_migrations_migrate_a_fresh_database() {
    let embedded = tenant_model::embed_migrations!("tests/migrations/basic");
    let from_dir = basic();
    assert_eq!(embedded.len(), 3);
    for (e, d) in embedded.iter().zip(from_dir.iter()) {
        assert_eq!(
            (e.version(), e.name(), e.checksum()),
            (d.version(), d.name(), d.checksum())
        );
        assert_eq!((e.up_sql(), e.down_sql()), (d.up_sql(), d.down_sql()));
    }
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    Migrator::new(&embedded)
        .up(&mut client, None)
        .await
        .expect("up");
    let ledger = ledger(&client).await;
    let expected: Vec<(i64, String, String)> = from_dir
        .iter()
        .map(|m| (m.version(), m.name().to_owned(), m.checksum().to_owned()))
        .collect();
    assert_eq!(ledger, expected);
    assert_eq!(effects(&client).await, [(V1, 1), (V2, 1), (V3, 1)]);
    db.close().await;
}

#[tokio::test]
async fn the_example_migrations_build_the_example_schema_and_revert_it() {
    let migrations = tenant_model::embed_migrations!("examples/saas/migrations");
    let schema = models::schema();
    let init = migrations.iter().next().expect("the init migration");
    assert_eq!(
        init.up_sql(),
        schema.create_sql(),
        "examples/saas/migrations/*_init/up.sql is the schema's create_sql(); if the DDL changed \
         on purpose, add a migration (or, before a release, regenerate the init)"
    );

    // The same catalog as a database made from create_sql() by the harness.
    let reference = tenant_model::testing::TestDb::new(&schema)
        .await
        .expect("reference database");
    let expected = catalog(&reference.superuser().await.expect("connect")).await;

    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let empty = catalog(&client).await;
    Migrator::new(&migrations)
        .up(&mut client, None)
        .await
        .expect("up");
    assert_eq!(catalog(&client).await, expected);
    Migrator::new(&migrations)
        .down(&mut client, DownTarget::All)
        .await
        .expect("down");
    assert_eq!(catalog(&client).await, empty);
    reference.close().await.expect("drop the reference");
    db.close().await;
}

#[tokio::test]
async fn the_command_line_migrates_and_reports() {
    use tenant_model::cli::{execute, Cli};

    let db = FreshDb::new().await;
    let url = db.url();
    let migrations = basic();
    let schema = tenant_model::Schema::new();
    let run = |args: &[&str]| {
        let args = std::iter::once("app").chain(args.iter().copied());
        let command = Cli::parse_args(args).expect("valid arguments").command;
        let (schema, migrations, url) = (&schema, &migrations, url.clone());
        async move {
            let mut out = Vec::new();
            let ok = execute(command, schema, migrations, Some(&url), &mut out).await;
            (ok, String::from_utf8(out).expect("utf-8"))
        }
    };
    let (ok, out) = run(&["migrate", "up", "--to", "20240102000000"]).await;
    assert!(ok.expect("up"), "{out}");
    assert!(out.contains("applied 20240101000000_create_items"), "{out}");
    let (ok, out) = run(&["migrate", "status"]).await;
    assert!(ok.expect("status"), "{out}");
    assert!(
        out.contains("20240103000000  index_items_name  pending"),
        "{out}"
    );
    assert!(
        out.contains("20240102000000  add_tags          applied"),
        "{out}"
    );
    let (ok, out) = run(&["migrate", "down", "--dry-run"]).await;
    assert!(
        ok.expect("dry run") && out.contains("DROP TABLE tags;"),
        "{out}"
    );
    let (ok, out) = run(&["print-schema"]).await;
    assert!(
        ok.expect("print-schema") && out.contains("CREATE TABLE tenants ("),
        "{out}"
    );
    assert!(Cli::parse_args(["app", "migrate", "sideways"]).is_err());
    db.close().await;
}

#[tokio::test]
async fn a_failing_no_transaction_migration_names_its_statement_and_is_not_recorded() {
    let files = TempMigrations::new(&[(
        "20240101000000_outside",
        "-- tenant-model: no-transaction\nCREATE TABLE kept (x int);\nCREATE TABLEE broken (y int);\nCREATE TABLE never (z int);",
        None,
    )]);
    let db = FreshDb::new().await;
    let mut client = db.client().await;
    let err = Migrator::new(&files.load())
        .up(&mut client, None)
        .await
        .unwrap_err();
    match &err {
        Error::Migration(MigrationError::Failed {
            version, statement, ..
        }) => {
            assert_eq!((*version, *statement), (V1, Some(2)));
        }
        other => panic!("expected Failed at statement 2, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("at statement 2, outside a transaction"),
        "{err}"
    );
    let tables = catalog(&client).await;
    assert!(
        tables.iter().any(|l| l.starts_with("table kept ")),
        "statement 1 stayed: {tables:?}"
    );
    assert!(
        !tables.iter().any(|l| l.starts_with("table never ")),
        "{tables:?}"
    );
    assert!(ledger(&client).await.is_empty(), "not recorded");
    db.close().await;
}
