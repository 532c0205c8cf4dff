//! The API a new user writes against, as the application role: scopes by
//! value or reference, `run` without annotations, streaming on a scope,
//! creating tenants, update and delete by filter, lookups that include
//! soft-deleted rows, and the server's message in errors.

use futures_util::{StreamExt, TryStreamExt};
use tenant_model::{Changes, Db, Error, Executor, Model, Record, Tenant, TenantId};
use uuid::Uuid;

use crate::context_leak::assert_clean;
use crate::extra::{Event, Note};
use crate::support::{app_db, seeded, Seed};

/// Notes titled `titles` for `tenant`, inserted through its scope.
async fn notes(db: &Db, tenant: Uuid, titles: &[&str]) -> Vec<Record<Note>> {
    let mut out = Vec::new();
    for title in titles {
        out.push(db.tenant(tenant).insert(Note::new(title)).await.unwrap());
    }
    out
}

#[tokio::test]
async fn queries_take_a_scope_by_value_by_reference_or_a_transaction() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    notes(&db, seed.tenant_a, &["a1", "a2"]).await;
    notes(&db, seed.tenant_b, &["b1"]).await;

    // By value: no `&mut` on a temporary.
    assert_eq!(
        Note::query().count(db.tenant(seed.tenant_a)).await.unwrap(),
        2
    );
    // By shared reference, several times.
    let scope = db.tenant(seed.tenant_b);
    let titles: Vec<String> = Note::query()
        .all(&scope)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.title.clone())
        .collect();
    assert_eq!(titles, ["b1"]);
    assert!(Note::query().exists(&scope).await.unwrap());
    assert!(Note::query()
        .filter(Note::TITLE.eq("a1"))
        .first(&scope)
        .await
        .unwrap()
        .is_none());
    // `&mut tx` as before, and `&mut scope`.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    assert_eq!(Note::query().count(&mut tx).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut scope = db.tenant(seed.tenant_a);
    assert_eq!(Note::query().count(&mut scope).await.unwrap(), 2);
}

#[tokio::test]
async fn run_infers_the_error_type_with_several_question_marks() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let (first, second) = db
        .tenant(seed.tenant_a)
        .run(async |tx| {
            let first = tx.insert(Note::new("one")).await?;
            let second = tx.insert(Note::new("two")).await?;
            Ok((first.id, second.id))
        })
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        Note::query().count(db.tenant(seed.tenant_a)).await.unwrap(),
        2
    );

    // Your own error type: `try_run`.
    #[derive(Debug)]
    enum AppError {
        Db(#[allow(dead_code)] Error),
        Refused,
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e)
        }
    }
    let refused = db
        .tenant(seed.tenant_a)
        .try_run(async |tx| {
            tx.insert(Note::new("rolled back")).await?;
            Err::<(), _>(AppError::Refused)
        })
        .await
        .unwrap_err();
    assert!(matches!(refused, AppError::Refused), "{refused:?}");
    let Err(AppError::Db(_)) = db
        .tenant(seed.tenant_a)
        .try_run(async |tx| {
            tx.raw_execute("SELECT nope", &[])
                .await
                .map_err(AppError::from)
        })
        .await
    else {
        panic!("a database error converts into the caller's error type");
    };
    assert_eq!(
        Note::query().count(db.tenant(seed.tenant_a)).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn a_stream_on_a_scope_keeps_its_transaction_and_leaves_the_pool_clean() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let titles: Vec<String> = (0..25).map(|i| format!("n{i:02}")).collect();
    let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
    notes(&db, seed.tenant_a, &refs).await;
    notes(&db, seed.tenant_b, &["other"]).await;

    // To the end, by value, in batches smaller than the rows.
    let all: Vec<Record<Note>> = Note::query()
        .order_by(Note::TITLE.asc())
        .stream(db.tenant(seed.tenant_a), 10)
        .try_collect()
        .await
        .unwrap();
    let got: Vec<&str> = all.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(got, refs, "tenant A's rows only, in order");
    assert_clean(&db).await;

    // Dropped half-way, by reference.
    let scope = db.tenant(seed.tenant_a);
    {
        let mut rows = std::pin::pin!(Note::query().stream(&scope, 10));
        for _ in 0..12 {
            rows.next().await.unwrap().unwrap();
        }
    }
    assert_clean(&db).await;

    // And on a transaction, as before.
    let mut tx = db.tenant(seed.tenant_b).begin().await.unwrap();
    let b: Vec<Record<Note>> = Note::query()
        .stream(&mut tx, 10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    tx.commit().await.unwrap();
    assert_clean(&db).await;
}

#[tokio::test]
async fn create_tenant_goes_through_the_admin_scope_and_returns_a_tenant_id() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let initech = db.create_tenant("Initech", "initech").await.unwrap();
    let id: TenantId = initech.id;
    assert_eq!(initech.slug, "initech");
    assert!(initech.is_active);
    // Its own scope sees it, by the same id type every scope takes.
    let own = db.tenant(id).find::<Tenant>(id).await.unwrap();
    assert_eq!(own.name, "Initech");
    db.tenant(id).insert(Note::new("first")).await.unwrap();
    assert_eq!(Note::query().count(db.tenant(id)).await.unwrap(), 1);
    // Uuid interop both ways.
    let raw: Uuid = id.into();
    assert_eq!(TenantId::from(raw), id);
    // A taken slug is a typed unique violation.
    let err = db.create_tenant("Acme again", "acme").await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    // Without an admin pool there is no way to create one.
    let no_admin = Db::from_pool(seed.db.app_pool(1));
    let err = no_admin.create_tenant("X", "x").await.unwrap_err();
    assert!(matches!(err, Error::AdminUnavailable(_)), "{err}");
    // The application role alone cannot insert a tenant either.
    let err = db
        .tenant(seed.tenant_a)
        .insert(Tenant::new("Rogue", "rogue"))
        .await
        .unwrap_err();
    assert!(!err.is_unique_violation(), "{err}");
}

#[tokio::test]
async fn a_database_error_displays_the_server_s_message() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    let mut long = Note::new("x");
    long.title = "x".repeat(500);
    let err = db.tenant(seed.tenant_a).insert(long).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("value too long for type character varying(120)"),
        "the server's message is shown: {shown}"
    );
}

async fn updated_at(seed: &Seed, table: &str, id: Uuid) -> chrono::DateTime<chrono::Utc> {
    let su = seed.db.superuser().await.unwrap();
    su.query_one(
        &format!("SELECT updated_at FROM {table} WHERE id = $1"),
        &[&id],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn update_by_filter_changes_only_the_tenant_s_matching_rows() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let a = notes(&db, seed.tenant_a, &["same", "same", "other"]).await;
    let b = notes(&db, seed.tenant_b, &["same"]).await;
    let before = updated_at(&seed, "notes", a[0].id).await;

    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let n = Note::query()
        .filter(Note::TITLE.eq("same"))
        .update(Changes::new().set(Note::PINNED, true), &mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 2, "tenant A's two matching rows, not B's");

    let pinned = Note::query().filter(Note::PINNED.eq(true));
    assert_eq!(pinned.count(db.tenant(seed.tenant_a)).await.unwrap(), 2);
    let b_row = db
        .tenant(seed.tenant_b)
        .find::<Note>(b[0].id)
        .await
        .unwrap();
    assert!(!b_row.pinned, "tenant B's row is untouched");
    assert!(
        updated_at(&seed, "notes", a[0].id).await > before,
        "updated_at bumped"
    );

    // Soft-deleted rows are left alone unless asked for.
    db.tenant(seed.tenant_a)
        .delete::<Note>(a[2].id)
        .await
        .unwrap();
    let n = Note::query()
        .update(Changes::new().set(Note::VIEWS, 7), db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let n = Note::query()
        .with_deleted()
        .update(Changes::new().set(Note::VIEWS, 8), db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(n, 3);
    // Changes are checked as for an update by key.
    let err = Note::query()
        .update(Changes::new(), db.tenant(seed.tenant_a))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
}

#[tokio::test]
async fn delete_by_filter_soft_deletes_within_the_tenant_and_force_deletes() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let a = notes(&db, seed.tenant_a, &["old", "old", "keep"]).await;
    let b = notes(&db, seed.tenant_b, &["old"]).await;

    let old = || Note::query().filter(Note::TITLE.eq("old"));
    let n = old().delete(db.tenant(seed.tenant_a)).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(old().count(db.tenant(seed.tenant_a)).await.unwrap(), 0);
    assert_eq!(
        old()
            .only_deleted()
            .count(db.tenant(seed.tenant_a))
            .await
            .unwrap(),
        2,
        "soft-deleted, not removed"
    );
    let deleted = db
        .tenant(seed.tenant_a)
        .find_with_deleted::<Note>(a[0].id)
        .await
        .unwrap();
    assert!(deleted.is_deleted() && deleted.deleted_at().is_some());
    // Already deleted rows are not stamped again.
    assert_eq!(
        old()
            .with_deleted()
            .delete(db.tenant(seed.tenant_a))
            .await
            .unwrap(),
        0
    );
    // Tenant B's matching row is live.
    assert!(!db
        .tenant(seed.tenant_b)
        .find::<Note>(b[0].id)
        .await
        .unwrap()
        .is_deleted());

    // force_delete removes for good, deleted rows only when included.
    let n = old().force_delete(db.tenant(seed.tenant_a)).await.unwrap();
    assert_eq!(n, 0, "the deleted rows are hidden by default");
    let n = old()
        .with_deleted()
        .force_delete(db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert!(db
        .tenant(seed.tenant_a)
        .get_with_deleted::<Note>(a[0].id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        Note::query().count(db.tenant(seed.tenant_a)).await.unwrap(),
        1
    );
    assert_eq!(old().count(db.tenant(seed.tenant_b)).await.unwrap(), 1);

    // A model without soft delete: `delete` deletes.
    let scope = db.tenant(seed.tenant_a);
    let event = |kind: &str| Event {
        id: Uuid::now_v7(),
        tenant_id: seed.tenant_a.into(),
        created_at: chrono::Utc::now(),
        kind: kind.to_owned(),
    };
    (&scope).insert(event("x")).await.unwrap();
    (&scope).insert(event("y")).await.unwrap();
    let n = Event::query()
        .filter(Event::KIND.eq("x"))
        .delete(&scope)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(Event::query().count(&scope).await.unwrap(), 1);
}

#[tokio::test]
async fn lookups_with_deleted_find_soft_deleted_rows_of_the_own_tenant_only() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let a = notes(&db, seed.tenant_a, &["gone"]).await;
    db.tenant(seed.tenant_a)
        .delete::<Note>(a[0].id)
        .await
        .unwrap();

    let scope = db.tenant(seed.tenant_a);
    assert!((&scope).get::<Note>(a[0].id).await.unwrap().is_none());
    let found = (&scope).find_with_deleted::<Note>(a[0].id).await.unwrap();
    assert!(found.is_deleted());
    assert_eq!(found.title, "gone");
    // Another tenant cannot see it, deleted or not.
    let err = db
        .tenant(seed.tenant_b)
        .find_with_deleted::<Note>(a[0].id)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(db
        .tenant(seed.tenant_b)
        .get_with_deleted::<Note>(a[0].id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn raw_rows_and_pool_types_are_reexported() {
    // Names a user must write come from tenant_model itself.
    fn first_text(rows: &[tenant_model::Row]) -> Option<String> {
        rows.first().map(|r| r.get(0))
    }
    let _: fn(&[tenant_model::Row]) -> Option<String> = first_text;
    let config: tenant_model::tokio_postgres::Config =
        "postgres://app@localhost/x".parse().unwrap();
    let pool: tenant_model::deadpool_postgres::Pool =
        Db::pool_with(config, 1, tenant_model::PoolTimeouts::default());
    let _db = Db::from_pool(pool);
}

#[tokio::test]
async fn a_row_built_with_defaults_inserts_and_reads_back_with_them() {
    use tenant_model::NewRow;

    use crate::models::{User, UserRole, UserTeamLink};

    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    // Only the required fields are written: the key, the defaults and the
    // optional fields are filled.
    let new = User::with_defaults(("cy@acme.test".to_owned(), "Cy".to_owned()));
    assert_eq!(new.id.get_version_num(), 7, "a new time-ordered key");
    let stored = db.tenant(seed.tenant_a).insert(new.clone()).await.unwrap();
    assert_eq!(*stored, new);
    assert!(stored.is_active);
    assert!(!stored.is_superuser);
    assert_eq!(stored.hashed_password, None);
    assert_eq!(stored.metadata, serde_json::json!({}));
    assert_eq!(
        stored.preferences,
        serde_json::json!({"theme": "light", "language": "en"})
    );

    // The same row inserted by SQL with the column defaults reads back the
    // same: the Rust defaults are the schema's.
    let su = seed.db.superuser().await.unwrap();
    let sql_id = Uuid::now_v7();
    su.execute(
        "INSERT INTO users (id, tenant_id, email, full_name) VALUES ($1, $2, 'dee@acme.test', 'Dee')",
        &[&sql_id, &seed.tenant_a],
    )
    .await
    .unwrap();
    let by_sql = db.tenant(seed.tenant_a).find::<User>(sql_id).await.unwrap();
    assert_eq!(
        (
            &by_sql.hashed_password,
            by_sql.is_active,
            by_sql.is_superuser,
            &by_sql.metadata,
            &by_sql.preferences
        ),
        (
            &new.hashed_password,
            new.is_active,
            new.is_superuser,
            &new.metadata,
            &new.preferences
        )
    );

    // An enum label default, on a link whose key fields are required.
    let link = UserTeamLink::with_defaults((new.id, Uuid::now_v7()));
    assert_eq!(link.role, UserRole::Member);
}
