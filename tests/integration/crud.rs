//! Typed CRUD through the tenant scope and transactions, as the app role.

use tenant_model::Model;
use tenant_model::{Changes, Error, Executor, Record, Tenant};
use uuid::Uuid;

use crate::extra::{Event, Note, Plan};
use crate::models::{Organization, Team, User, UserRole, UserTeamLink};
use crate::support::{app_db, count, seeded, user, without_rls};

#[tokio::test]
async fn insert_takes_tenant_and_timestamps_from_the_database() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let new = user("c@acme.test");
    let stored = db.tenant(seed.tenant_a).insert(new.clone()).await.unwrap();
    assert_eq!(stored.tenant_id(), Some(seed.tenant_a.into()));
    assert_eq!(*stored, new, "the model comes back as inserted");
    assert_eq!(stored.created_at(), stored.updated_at());
    assert!(!stored.is_deleted());
    let found = db.tenant(seed.tenant_a).find::<User>(new.id).await.unwrap();
    assert_eq!(found, stored);
}

#[tokio::test]
async fn every_column_type_round_trips() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut note = Note::new("all types");
    note.author_id = Some(seed.user_a);
    note.body = Some("body".into());
    note.pinned = true;
    note.priority = i16::MAX;
    note.views = i32::MIN;
    note.bytes = i64::MAX;
    note.score = 1.5;
    note.weight = -2.25;
    note.due = chrono::NaiveDate::from_ymd_opt(2026, 11, 27);
    note.remind_at =
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).and_then(|d| d.and_hms_opt(9, 30, 0));
    note.published_at = Some(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
    note.audience = vec![UserRole::Owner, UserRole::Admin];
    let stored = db.tenant(seed.tenant_a).insert(note.clone()).await.unwrap();
    assert_eq!(*stored, note);
    let found = db
        .tenant(seed.tenant_a)
        .find::<Note>(note.id)
        .await
        .unwrap();
    assert_eq!(*found, note);
}

#[tokio::test]
async fn insert_many_inserts_ten_thousand_rows_in_one_call() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let users: Vec<User> = (0..10_000)
        .map(|i| user(&format!("u{i}@acme.test")))
        .collect();
    let n = db.tenant(seed.tenant_a).insert_many(&users).await.unwrap();
    assert_eq!(n, 10_000);
    let count = User::query()
        .count(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(count, 10_001, "the seeded user plus the new ones");
    let other = User::query()
        .count(&mut db.tenant(seed.tenant_b))
        .await
        .unwrap();
    assert_eq!(other, 1, "nothing landed in another tenant");

    // Array columns take the multi-row VALUES path.
    let notes: Vec<Note> = (0..500).map(|i| Note::new(&format!("n{i}"))).collect();
    let n = db.tenant(seed.tenant_b).insert_many(&notes).await.unwrap();
    assert_eq!(n, 500);
    let tagged = Note::query()
        .filter(Note::TITLE.eq("n499"))
        .first(&mut db.tenant(seed.tenant_b))
        .await
        .unwrap()
        .expect("inserted");
    assert_eq!(tagged.tags, ["a", "b"]);
    assert_eq!(tagged.audience, [UserRole::Member, UserRole::Guest]);
}

#[tokio::test]
async fn find_by_composite_key_and_link_rows() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let org = tx
        .insert(Organization {
            id: Uuid::now_v7(),
            name: "Acme Org".into(),
        })
        .await
        .unwrap();
    let team = tx
        .insert(Team {
            id: Uuid::now_v7(),
            organization_id: org.id,
            name: "Core".into(),
        })
        .await
        .unwrap();
    let link = tx
        .insert(UserTeamLink {
            user_id: seed.user_a,
            team_id: team.id,
            role: UserRole::Admin,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let found = db
        .tenant(seed.tenant_a)
        .find::<UserTeamLink>((seed.user_a, team.id))
        .await
        .unwrap();
    assert_eq!(found, link);
    assert_eq!(found.role, UserRole::Admin);
    let missing = db
        .tenant(seed.tenant_b)
        .get::<UserTeamLink>((seed.user_a, team.id))
        .await
        .unwrap();
    assert!(missing.is_none(), "another tenant does not find it");
}

#[tokio::test]
async fn update_changes_only_the_given_columns_and_bumps_updated_at() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let before = db
        .tenant(seed.tenant_a)
        .find::<User>(seed.user_a)
        .await
        .unwrap();
    let after = db
        .tenant(seed.tenant_a)
        .update::<User>(
            seed.user_a,
            Changes::new()
                .set(User::FULL_NAME, "Ann Smith")
                .set(User::HASHED_PASSWORD, Some("x".to_owned())),
        )
        .await
        .unwrap();
    assert_eq!(after.full_name, "Ann Smith");
    assert_eq!(after.hashed_password.as_deref(), Some("x"));
    assert_eq!(after.email, before.email, "other columns untouched");
    assert_eq!(after.created_at(), before.created_at());
    assert!(
        after.updated_at() > before.updated_at(),
        "updated_at bumped"
    );

    // Another tenant's row: not found, and unchanged.
    let err = db
        .tenant(seed.tenant_b)
        .update::<User>(seed.user_a, Changes::new().set(User::FULL_NAME, "pwned"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // System columns are not settable, and an empty change set is refused.
    let err = db
        .tenant(seed.tenant_a)
        .update::<User>(seed.user_a, Changes::new().set(User::IS_DELETED, true))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    let err = db
        .tenant(seed.tenant_a)
        .update::<User>(seed.user_a, Changes::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
}

#[tokio::test]
async fn upsert_inserts_then_updates_on_the_per_tenant_key() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut first = user("up@acme.test");
    first.full_name = "First".into();
    let inserted = db
        .tenant(seed.tenant_a)
        .upsert(first.clone(), &[User::EMAIL.into()])
        .await
        .unwrap();
    assert_eq!(inserted.full_name, "First");

    let mut second = user("up@acme.test");
    second.full_name = "Second".into();
    let updated = db
        .tenant(seed.tenant_a)
        .upsert(second, &[User::EMAIL.into()])
        .await
        .unwrap();
    assert_eq!(updated.id, first.id, "the existing row was updated");
    assert_eq!(updated.full_name, "Second");

    // The same email in another tenant is a different row.
    let other = db
        .tenant(seed.tenant_b)
        .upsert(user("up@acme.test"), &[User::EMAIL.into()])
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(other.tenant_id(), Some(seed.tenant_b.into()));
}

#[tokio::test]
async fn soft_delete_hides_rows_until_restored() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    let gone = scope()
        .soft_delete::<User>(seed.user_a, Some(seed.user_a))
        .await
        .unwrap();
    assert!(gone.is_deleted());
    assert!(gone.deleted_at().is_some());
    assert_eq!(gone.deleted_by_id(), Some(seed.user_a));

    assert!(
        scope().get::<User>(seed.user_a).await.unwrap().is_none(),
        "hidden from find"
    );
    assert_eq!(
        User::query().count(&mut scope()).await.unwrap(),
        0,
        "hidden from queries"
    );
    assert_eq!(
        User::query()
            .with_deleted()
            .count(&mut scope())
            .await
            .unwrap(),
        1
    );
    let only = User::query()
        .only_deleted()
        .all(&mut scope())
        .await
        .unwrap();
    assert_eq!(only.iter().map(|u| u.id).collect::<Vec<_>>(), [seed.user_a]);
    let err = scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "already deleted");

    let back = scope().restore::<User>(seed.user_a).await.unwrap();
    assert!(!back.is_deleted());
    assert_eq!(back.deleted_by_id(), None);
    assert!(scope().get::<User>(seed.user_a).await.unwrap().is_some());

    // `delete` on a soft-delete model soft-deletes; `force_delete` removes.
    scope().delete::<User>(seed.user_a).await.unwrap();
    assert_eq!(
        User::query()
            .with_deleted()
            .count(&mut scope())
            .await
            .unwrap(),
        1
    );
    scope().force_delete::<User>(seed.user_a).await.unwrap();
    assert_eq!(
        User::query()
            .with_deleted()
            .count(&mut scope())
            .await
            .unwrap(),
        0
    );
    assert!(scope()
        .force_delete::<User>(seed.user_a)
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn hard_delete_on_models_without_soft_delete() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let org = db
        .tenant(seed.tenant_a)
        .insert(Organization {
            id: Uuid::now_v7(),
            name: "O".into(),
        })
        .await
        .unwrap();
    assert!(db
        .tenant(seed.tenant_b)
        .delete::<Organization>(org.id)
        .await
        .unwrap_err()
        .is_not_found());
    db.tenant(seed.tenant_a)
        .delete::<Organization>(org.id)
        .await
        .unwrap();
    assert!(db
        .tenant(seed.tenant_a)
        .get::<Organization>(org.id)
        .await
        .unwrap()
        .is_none());
    let err = db
        .tenant(seed.tenant_a)
        .soft_delete::<Organization>(org.id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)));
}

#[tokio::test]
async fn the_tenant_sees_its_own_tenants_row_only() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let own: Record<Tenant> = db
        .tenant(seed.tenant_a)
        .find::<Tenant>(seed.tenant_a.into())
        .await
        .unwrap();
    assert_eq!(own.slug, "acme");
    assert!(db
        .tenant(seed.tenant_a)
        .get::<Tenant>(seed.tenant_b.into())
        .await
        .unwrap()
        .is_none());
    let renamed = db
        .tenant(seed.tenant_a)
        .update::<Tenant>(
            seed.tenant_a.into(),
            Changes::new().set(Tenant::NAME, "Acme Inc"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Acme Inc");
    let err = db
        .tenant(seed.tenant_a)
        .update::<Tenant>(
            seed.tenant_a.into(),
            Changes::new().set(Tenant::IS_ACTIVE, false),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PermissionDenied { .. }),
        "switching a tenant off is admin work: {err}"
    );
    let err = db
        .tenant(seed.tenant_a)
        .force_delete::<Tenant>(seed.tenant_b.into())
        .await
        .unwrap_err();
    assert!(err.is_rejected(), "{err}");
}

#[tokio::test]
async fn global_tables_are_read_only_for_the_application() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let su = seed.db.superuser().await.unwrap();
    let plan = Uuid::now_v7();
    su.execute(
        "INSERT INTO plans (id, code, monthly_cents) VALUES ($1, 'pro', 4900)",
        &[&plan],
    )
    .await
    .unwrap();
    let found = db.tenant(seed.tenant_a).find::<Plan>(plan).await.unwrap();
    assert_eq!(found.code, "pro");
    assert_eq!(found.tenant_id(), None);
    let found_b = db.tenant(seed.tenant_b).find::<Plan>(plan).await.unwrap();
    assert_eq!(found_b.code, "pro", "shared by every tenant");
    let err = db
        .tenant(seed.tenant_a)
        .insert(Plan {
            id: Uuid::now_v7(),
            code: "free".into(),
            monthly_cents: 0,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
}

#[tokio::test]
async fn errors_are_typed() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);

    let err = scope().insert(user("ann@acme.test")).await.unwrap_err();
    assert!(err.is_unique_violation());
    assert_eq!(err.constraint(), Some("uq_tenant_email"));
    assert_eq!(err.code(), Some("23505"));

    let err = scope()
        .insert(Team {
            id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            name: "orphan".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err}");
    assert_eq!(err.constraint(), Some("teams_organization_id_fkey"));

    let mut tx = scope().begin().await.unwrap();
    let err = tx
        .raw_execute(
            "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'm@x.test', 'M')",
            &[&seed.tenant_b],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::RowSecurity { table: Some(t), .. } if t == "users"),
        "{err}"
    );
    drop(tx);

    let err = scope().find::<User>(Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { table: "users" }));

    let mut admin = db
        .admin("support ticket 42")
        .unwrap()
        .begin()
        .await
        .unwrap();
    let err = admin.insert(user("z@acme.test")).await.unwrap_err();
    assert!(matches!(err, Error::NoTenantContext), "{err}");
    drop(admin);

    let mut tx = scope().begin().await.unwrap();
    let err = tx.raw_query("SELECT 1/0", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some("22012"));
    assert!(matches!(err, Error::Database { .. }));
    drop(tx);

    let unreachable = tenant_model::Db::from_pool(
        tenant_model::Db::pool_for("postgres://nobody@127.0.0.1:1/none", 1).unwrap(),
    );
    let err = unreachable
        .tenant(seed.tenant_a)
        .find::<User>(seed.user_a)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pool(_)), "{err}");
}

#[tokio::test]
async fn generated_queries_filter_by_tenant_even_without_rls() {
    let seed = seeded().await;
    without_rls(&seed.db, "notes").await;
    let db = app_db(&seed.db, 2);
    let a_note = db
        .tenant(seed.tenant_a)
        .insert(Note::new("of A"))
        .await
        .unwrap();
    let b_note = db
        .tenant(seed.tenant_b)
        .insert(Note::new("of B"))
        .await
        .unwrap();

    // RLS is really off: raw SQL without a context sees both tenants.
    let raw = seed.db.app().await.unwrap();
    let all = count(&raw, "SELECT count(*) FROM notes").await;
    assert_eq!(all, 2, "RLS is off on the scratch table");

    // The library's own SQL still sees one tenant.
    let scope = || db.tenant(seed.tenant_a);
    let listed = Note::query().all(&mut scope()).await.unwrap();
    assert_eq!(listed.iter().map(|n| n.id).collect::<Vec<_>>(), [a_note.id]);
    assert_eq!(Note::query().count(&mut scope()).await.unwrap(), 1);
    assert!(scope().get::<Note>(b_note.id).await.unwrap().is_none());
    let err = scope()
        .update::<Note>(b_note.id, Changes::new().set(Note::TITLE, "pwned"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert!(scope()
        .force_delete::<Note>(b_note.id)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(scope()
        .soft_delete::<Note>(b_note.id, None)
        .await
        .unwrap_err()
        .is_not_found());
    let title: String = raw
        .query_one("SELECT title FROM notes WHERE id = $1", &[&b_note.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, "of B");
}

#[tokio::test]
async fn statements_on_tenants_filter_by_the_tenant_even_without_rls() {
    let seed = seeded().await;
    without_rls(&seed.db, "tenants").await;
    let db = app_db(&seed.db, 2);
    let raw = seed.db.app().await.unwrap();
    assert_eq!(
        count(&raw, "SELECT count(*) FROM tenants").await,
        2,
        "RLS is off on tenants: raw SQL sees both"
    );

    let scope = || db.tenant(seed.tenant_a);
    assert!(scope()
        .find::<Tenant>(seed.tenant_b.into())
        .await
        .unwrap_err()
        .is_not_found());
    assert!(scope()
        .get::<Tenant>(seed.tenant_b.into())
        .await
        .unwrap()
        .is_none());
    let err = scope()
        .update::<Tenant>(
            seed.tenant_b.into(),
            Changes::new().set(Tenant::NAME, "pwned"),
        )
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let listed = Tenant::query().all(&mut scope()).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| Uuid::from(t.id)).collect::<Vec<_>>(),
        [seed.tenant_a]
    );
    assert_eq!(Tenant::query().count(&mut scope()).await.unwrap(), 1);
    assert!(!Tenant::query()
        .filter(Tenant::ID.eq(seed.tenant_b))
        .exists(&mut scope())
        .await
        .unwrap());

    // Its own row still works, and the admin scope still sees every tenant.
    let own = scope()
        .update::<Tenant>(
            seed.tenant_a.into(),
            Changes::new().set(Tenant::NAME, "Acme Inc"),
        )
        .await
        .unwrap();
    assert_eq!(own.name, "Acme Inc");
    let all = db
        .admin("tenant listing")
        .unwrap()
        .run(async |tx| Tenant::query().count(tx).await)
        .await
        .unwrap();
    assert_eq!(all, 2);
    let name: String = raw
        .query_one("SELECT name FROM tenants WHERE id = $1", &[&seed.tenant_b])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Globex");
}

#[tokio::test]
async fn raw_sql_runs_inside_the_tenant_transaction() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let rows = tx
        .raw_query("SELECT email FROM users WHERE email LIKE $1", &[&"%@%"])
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>(),
        ["ann@acme.test"]
    );
    let n = tx
        .raw_execute("UPDATE users SET full_name = upper(full_name)", &[])
        .await
        .unwrap();
    assert_eq!(n, 1, "RLS limits raw SQL to the tenant");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_admin_scope_sees_every_tenant_and_the_app_cannot_forge_it() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let admin = db.admin("monthly usage report").unwrap();
    let all = admin
        .run(async |tx| User::query().count(tx).await)
        .await
        .unwrap();
    assert_eq!(all, 2);

    // The application role setting the flag itself gains nothing.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.raw_query("SELECT set_config('app.is_superuser', 'on', true)", &[])
        .await
        .unwrap();
    let seen = User::query().count(&mut tx).await.unwrap();
    assert_eq!(seen, 1);
    let raw: i64 = tx
        .raw_query("SELECT count(*) FROM users", &[])
        .await
        .unwrap()[0]
        .get(0);
    assert_eq!(raw, 1, "RLS still isolates");
    drop(tx);

    let ctx = tenant_model::TenantContext::new(seed.tenant_a);
    assert!(matches!(
        db.admin_for(&ctx, "x"),
        Err(Error::AdminUnavailable(_))
    ));
}

#[tokio::test]
async fn declared_system_columns_come_from_the_database_not_the_caller() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    // The caller claims another tenant and an old timestamp; both are ignored.
    let forged = Event {
        id: Uuid::now_v7(),
        tenant_id: seed.tenant_b.into(),
        created_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        kind: "login".into(),
    };
    let stored = db
        .tenant(seed.tenant_a)
        .insert(forged.clone())
        .await
        .unwrap();
    assert_eq!(
        stored.tenant_id,
        seed.tenant_a.into(),
        "tenant_id comes from the context"
    );
    assert_eq!(stored.tenant_id(), Some(seed.tenant_a.into()));
    assert!(
        stored.created_at > forged.created_at,
        "created_at comes from the database"
    );
    assert_eq!(stored.created_at, stored.created_at());
    assert!(db
        .tenant(seed.tenant_b)
        .get::<Event>(forged.id)
        .await
        .unwrap()
        .is_none());
}

/// The whole CRUD cycle from 32 concurrent tasks on a pool of 16
/// connections (behind PgBouncer, `TENANT_MODEL_POOLER=pgbouncer`, more than
/// its server pool of 4): insert, find, update, soft delete, restore,
/// upsert and delete, each task in one of two tenants, and none of them
/// ever reaches the other tenant's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_tasks_run_the_whole_cycle_within_their_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 16);
    let (a, b) = (seed.tenant_a, seed.tenant_b);
    let (user_a, user_b) = (seed.user_a, seed.user_b);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32usize {
        let db = db.clone();
        tasks.spawn(async move {
            let (mine, others_user) = if t % 2 == 0 { (a, user_b) } else { (b, user_a) };
            let mut scope = db.tenant(mine);
            for i in 0..5 {
                let new = user(&format!("cycle{t}-{i}@crud.test"));
                let stored = scope.insert(new.clone()).await.unwrap();
                assert_eq!(stored.tenant_id(), Some(mine.into()));
                let renamed = scope
                    .update::<User>(new.id, Changes::new().set(User::FULL_NAME, "Renamed"))
                    .await
                    .unwrap();
                assert_eq!(renamed.full_name, "Renamed");
                scope.soft_delete::<User>(new.id, None).await.unwrap();
                assert!(scope.get::<User>(new.id).await.unwrap().is_none());
                scope.restore::<User>(new.id).await.unwrap();
                let upserted = scope
                    .upsert(
                        User {
                            full_name: "Upserted".into(),
                            ..new.clone()
                        },
                        &[User::EMAIL.into()],
                    )
                    .await
                    .unwrap();
                assert_eq!(upserted.full_name, "Upserted");
                scope.force_delete::<User>(new.id).await.unwrap();
                // The other tenant's user stays out of reach.
                assert!(scope.get::<User>(others_user).await.unwrap().is_none());
                let err = scope
                    .update::<User>(others_user, Changes::new().set(User::FULL_NAME, "pwned"))
                    .await
                    .unwrap_err();
                assert!(err.is_not_found(), "{err}");
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let su = seed.db.superuser().await.unwrap();
    assert_eq!(
        count(
            &su,
            "SELECT count(*) FROM users WHERE email LIKE '%@crud.test'"
        )
        .await,
        0,
        "every cycle deleted its own row"
    );
    assert_eq!(
        count(&su, "SELECT count(*) FROM users WHERE full_name = 'pwned'").await,
        0
    );
}
