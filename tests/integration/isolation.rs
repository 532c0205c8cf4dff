//! Tenant isolation as the database enforces it, checked through the
//! application role with raw SQL (no help from the library's own filters).

use uuid::Uuid;

use crate::support::{count, first_column, in_tenant, on_citus, plain_only, seeded, sqlstate};

#[tokio::test]
async fn rows_of_one_tenant_are_invisible_to_another() {
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();

    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let emails = first_column(&tx, "SELECT email FROM users").await;
    assert_eq!(emails, ["bob@globex.test"]);
    let by_id = tx
        .query("SELECT 1 FROM users WHERE id = $1", &[&seed.user_a])
        .await
        .unwrap();
    assert!(
        by_id.is_empty(),
        "tenant B must not find tenant A's user by id"
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn writes_into_another_tenant_are_rejected() {
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();

    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let err = tx
        .execute(
            "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'mallory@acme.test', 'Mallory')",
            &[&seed.tenant_a],
        )
        .await
        .expect_err("insert into another tenant");
    assert_eq!(sqlstate(&err), "42501", "RLS WITH CHECK rejects it: {err}");
    drop(tx);

    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let updated = tx
        .execute(
            "UPDATE users SET full_name = 'pwned' WHERE id = $1",
            &[&seed.user_a],
        )
        .await
        .unwrap();
    assert_eq!(
        updated, 0,
        "another tenant's row is not even visible to UPDATE"
    );
    let deleted = tx
        .execute("DELETE FROM users WHERE id = $1", &[&seed.user_a])
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    // Moving one's own row into another tenant is rejected too.
    let err = tx
        .execute(
            "UPDATE users SET tenant_id = $1 WHERE id = $2",
            &[&seed.tenant_a, &seed.user_b],
        )
        .await
        .expect_err("move a row to another tenant");
    // On Citus the coordinator refuses it before any policy runs: the
    // distribution column cannot change (`modifying the partition value of
    // rows is not allowed`, 0A000).
    let expected = if on_citus() { "0A000" } else { "42501" };
    assert_eq!(sqlstate(&err), expected, "{err}");
    drop(tx);

    let su = seed.db.superuser().await.unwrap();
    let name: String = su
        .query_one("SELECT full_name FROM users WHERE id = $1", &[&seed.user_a])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Ann");
}

#[tokio::test]
async fn without_a_tenant_context_nothing_is_visible_and_writes_fail() {
    let seed = seeded().await;
    let app = seed.db.app().await.unwrap();

    // Unnamed statements: outside a transaction, a transaction-mode pooler
    // (TENANT_MODEL_POOLER=pgbouncer) may run each message flight on another
    // server connection.
    let users = app.query_typed("SELECT * FROM users", &[]).await.unwrap();
    assert!(users.is_empty(), "no context, no rows");
    let tenants = app.query_typed("SELECT * FROM tenants", &[]).await.unwrap();
    assert!(tenants.is_empty(), "no context, no tenant row either");
    let err = app
        .execute_typed(
            "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'x@acme.test', 'X')",
            &[(&seed.tenant_a, tokio_postgres::types::Type::UUID)],
        )
        .await
        .expect_err("insert without context");
    assert_eq!(sqlstate(&err), "42501", "{err}");
}

#[tokio::test]
async fn a_foreign_key_cannot_point_into_another_tenant() {
    let seed = seeded().await;
    let su = seed.db.superuser().await.unwrap();
    let org_a = Uuid::now_v7();
    su.execute(
        "INSERT INTO organizations (id, tenant_id, name) VALUES ($1, $2, 'Acme Org')",
        &[&org_a, &seed.tenant_a],
    )
    .await
    .unwrap();

    // Tenant B knows (or guesses) the id of tenant A's organization.
    let mut app = seed.db.app().await.unwrap();
    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let err = tx
        .execute(
            "INSERT INTO teams (tenant_id, organization_id, name) VALUES ($1, $2, 'Infiltrators')",
            &[&seed.tenant_b, &org_a],
        )
        .await
        .expect_err("team of tenant B under tenant A's organization");
    assert_eq!(
        sqlstate(&err),
        "23503",
        "the composite foreign key rejects it: {err}"
    );
    drop(tx);

    // Even the superuser, who bypasses RLS, cannot create such a row.
    let err = su
        .execute(
            "INSERT INTO teams (tenant_id, organization_id, name) VALUES ($1, $2, 'Infiltrators')",
            &[&seed.tenant_b, &org_a],
        )
        .await
        .expect_err("cross-tenant reference as superuser");
    assert_eq!(sqlstate(&err), "23503", "{err}");

    // Linking tenant A's user into a team of tenant B is refused the same way.
    let org_b = Uuid::now_v7();
    let team_b = Uuid::now_v7();
    su.execute(
        "INSERT INTO organizations (id, tenant_id, name) VALUES ($1, $2, 'Globex Org')",
        &[&org_b, &seed.tenant_b],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO teams (id, tenant_id, organization_id, name) VALUES ($1, $2, $3, 'Core')",
        &[&team_b, &seed.tenant_b, &org_b],
    )
    .await
    .unwrap();
    let err = su
        .execute(
            "INSERT INTO user_team_links (user_id, team_id, tenant_id) VALUES ($1, $2, $3)",
            &[&seed.user_a, &team_b, &seed.tenant_b],
        )
        .await
        .expect_err("link to another tenant's user");
    assert_eq!(sqlstate(&err), "23503", "{err}");
}

#[tokio::test]
async fn a_tenant_sees_and_changes_only_its_own_tenants_row() {
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();

    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let slugs = first_column(&tx, "SELECT slug FROM tenants").await;
    assert_eq!(slugs, ["globex"], "a tenant lists only itself");

    let renamed = tx
        .execute(
            "UPDATE tenants SET name = 'Pwned' WHERE id = $1",
            &[&seed.tenant_a],
        )
        .await
        .unwrap();
    assert_eq!(renamed, 0, "another tenant's row is not visible to UPDATE");
    let own = tx
        .execute(
            "UPDATE tenants SET name = 'Globex Corp' WHERE id = $1",
            &[&seed.tenant_b],
        )
        .await
        .unwrap();
    assert_eq!(own, 1, "a tenant renames itself");
    tx.commit().await.unwrap();

    for (what, sql) in [
        ("delete another tenant", "DELETE FROM tenants WHERE id = $1"),
        (
            "switch another tenant off",
            "UPDATE tenants SET is_active = false WHERE id = $1",
        ),
    ] {
        let tx = in_tenant(&mut app, seed.tenant_b).await;
        let err = tx.execute(sql, &[&seed.tenant_a]).await.expect_err(what);
        assert_eq!(sqlstate(&err), "42501", "{what}: {err}");
    }
    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let err = tx
        .execute("DELETE FROM tenants WHERE id = $1", &[&seed.tenant_b])
        .await
        .expect_err("deleting tenants is admin work, even one's own");
    assert_eq!(sqlstate(&err), "42501", "{err}");
    drop(tx);
    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let err = tx
        .execute(
            "INSERT INTO tenants (name, slug) VALUES ('New', 'new')",
            &[],
        )
        .await
        .expect_err("creating tenants is admin work");
    assert_eq!(sqlstate(&err), "42501", "{err}");
    drop(tx);

    let su = seed.db.superuser().await.unwrap();
    let names = first_column(&su, "SELECT name FROM tenants ORDER BY slug").await;
    assert_eq!(names, ["Acme", "Globex Corp"]);
}

#[tokio::test]
async fn email_is_unique_per_tenant_not_globally() {
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();

    // Tenant B may use tenant A's email address.
    let tx = in_tenant(&mut app, seed.tenant_b).await;
    tx.execute(
        "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'ann@acme.test', 'Other Ann')",
        &[&seed.tenant_b],
    )
    .await
    .expect("same email in another tenant");
    tx.commit().await.unwrap();

    // But not twice within one tenant.
    let tx = in_tenant(&mut app, seed.tenant_a).await;
    let err = tx
        .execute(
            "INSERT INTO users (tenant_id, email, full_name) VALUES ($1, 'ann@acme.test', 'Ann Again')",
            &[&seed.tenant_a],
        )
        .await
        .expect_err("duplicate email within a tenant");
    assert_eq!(sqlstate(&err), "23505");
    if on_citus() {
        // Raised on a worker: the shard's constraint, named in the message
        // only (the library's typed error strips the shard id).
        let message = err.as_db_error().map(|e| e.message()).unwrap_or_default();
        assert!(message.contains("\"uq_tenant_email_"), "{message}");
    } else {
        assert_eq!(
            err.as_db_error().and_then(|e| e.constraint()),
            Some("uq_tenant_email")
        );
    }
}

#[tokio::test]
async fn a_connection_that_ran_an_admin_transaction_serves_the_next_tenant() {
    let seed = seeded().await;

    // The admin role's connection: an audited cross-tenant transaction...
    let mut admin = seed.db.admin().await.unwrap();
    let tx = admin.transaction().await.unwrap();
    if on_citus() {
        // What the library sends on Citus: SET LOCALs reach the workers.
        tx.batch_execute(&format!(
            "SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL app.is_superuser = 'on'; \
             SET LOCAL app.tenant_id = '{}'",
            seed.tenant_a.hyphenated()
        ))
        .await
        .unwrap();
    } else {
        tx.execute("SELECT set_config('app.is_superuser', 'on', true)", &[])
            .await
            .unwrap();
        tx.execute(
            "SELECT set_config('app.tenant_id', $1, true)",
            &[&seed.tenant_a.to_string()],
        )
        .await
        .unwrap();
    }
    let all = count(&tx, "SELECT count(*) FROM users").await;
    assert_eq!(all, 2, "the admin policy shows every tenant's rows");
    tx.commit().await.unwrap();

    // ...leaves both settings as '' in the session, which must read as
    // "no context" and "not admin", not as an error.
    let setting: String = admin
        .query_one("SELECT current_setting('app.tenant_id', true)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(setting, "", "a local setting reverts to '' after commit");
    let visible = count(&admin, "SELECT count(*) FROM users").await;
    assert_eq!(visible, 0, "no context and no admin flag: nothing visible");
    let tx = in_tenant(&mut admin, seed.tenant_b).await;
    let visible = count(&tx, "SELECT count(*) FROM users").await;
    assert_eq!(
        visible, 1,
        "the next tenant transaction sees its own rows only"
    );
    tx.commit().await.unwrap();

    // The same on the application role's connection.
    let mut app = seed.db.app().await.unwrap();
    let tx = in_tenant(&mut app, seed.tenant_a).await;
    tx.query("SELECT 1 FROM users", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let visible = count(&app, "SELECT count(*) FROM users").await;
    assert_eq!(visible, 0);
    let tx = in_tenant(&mut app, seed.tenant_b).await;
    let visible = count(&tx, "SELECT count(*) FROM users").await;
    assert_eq!(visible, 1);
}

#[tokio::test]
async fn the_application_role_cannot_forge_admin_access() {
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();

    let tx = app.transaction().await.unwrap();
    tx.execute("SELECT set_config('app.is_superuser', 'on', true)", &[])
        .await
        .unwrap();
    let visible = count(&tx, "SELECT count(*) FROM users").await;
    assert_eq!(
        visible, 0,
        "the admin policy applies only to the admin role"
    );
    let tenants = count(&tx, "SELECT count(*) FROM tenants").await;
    assert_eq!(tenants, 0);
    drop(tx);

    // Session-level, too.
    app.batch_execute("SET app.is_superuser = 'on'")
        .await
        .unwrap();
    let visible = count(&app, "SELECT count(*) FROM users").await;
    assert_eq!(visible, 0);

    // And the admin role without the flag sees nothing cross-tenant either.
    let admin = seed.db.admin().await.unwrap();
    let visible = count(&admin, "SELECT count(*) FROM users").await;
    assert_eq!(visible, 0, "admin access needs the per-transaction flag");
}

#[tokio::test]
async fn updated_at_moves_on_every_update_even_from_raw_sql() {
    if on_citus() {
        // Citus refuses triggers on distributed tables: there the library's
        // own statements set updated_at, and raw SQL must (see the guide).
        plain_only("isolation::updated_at_moves_on_every_update_even_from_raw_sql");
        return;
    }
    let seed = seeded().await;
    let mut app = seed.db.app().await.unwrap();
    let tx = in_tenant(&mut app, seed.tenant_a).await;
    let before = tx
        .query_one(
            "SELECT created_at, updated_at FROM users WHERE id = $1",
            &[&seed.user_a],
        )
        .await
        .unwrap();
    let row = tx
        .query_one(
            "UPDATE users SET full_name = 'Ann B', created_at = now() - interval '1 year' \
             WHERE id = $1 RETURNING created_at, updated_at",
            &[&seed.user_a],
        )
        .await
        .unwrap();
    let (created, updated): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        (row.get(0), row.get(1));
    assert_eq!(
        created,
        before.get::<_, chrono::DateTime<chrono::Utc>>(0),
        "created_at cannot be rewritten"
    );
    assert!(
        updated > before.get::<_, chrono::DateTime<chrono::Utc>>(1),
        "updated_at moved forward"
    );
}

/// Concurrent raw-SQL isolation through the application role: 32 tasks on a
/// pool of 16 connections (more than PgBouncer's server pool when the tests
/// run behind it), each in a transaction of one of two tenants, reading,
/// writing and trying to reach the other tenant's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_tenant_transactions_see_only_their_own_rows() {
    let seed = seeded().await;
    let db = seed.db.app_db(16);
    let (a, b) = (seed.tenant_a, seed.tenant_b);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32usize {
        let db = db.clone();
        tasks.spawn(async move {
            let (mine, other) = if t % 2 == 0 { (a, b) } else { (b, a) };
            for i in 0..10 {
                db.tenant(mine)
                    .run(async |tx| {
                        let context: String = tx
                            .raw_query("SELECT current_setting('app.tenant_id')", &[])
                            .await?[0]
                            .get(0);
                        assert_eq!(context, mine.to_string(), "this transaction's own context");
                        tx.raw_execute(
                            "INSERT INTO users (id, tenant_id, email, full_name) \
                             VALUES ($1, $2, $3, 'x')",
                            &[&Uuid::now_v7(), &mine, &format!("t{t}-{i}@iso.test")],
                        )
                        .await?;
                        let foreign: i64 = tx
                            .raw_query("SELECT count(*) FROM users WHERE tenant_id <> $1", &[&mine])
                            .await?[0]
                            .get(0);
                        assert_eq!(foreign, 0, "no row of another tenant is visible");
                        let trespass = tx
                            .raw_execute(
                                "UPDATE users SET full_name = 'pwned' WHERE tenant_id = $1",
                                &[&other],
                            )
                            .await?;
                        assert_eq!(trespass, 0, "no row of another tenant can be changed");
                        Ok(())
                    })
                    .await
                    .expect("a tenant transaction");
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let su = seed.db.superuser().await.unwrap();
    let counts = su
        .query(
            "SELECT tenant_id, count(*) FILTER (WHERE email LIKE '%@iso.test'), \
             count(*) FILTER (WHERE full_name = 'pwned') FROM users GROUP BY tenant_id \
             ORDER BY tenant_id",
            &[],
        )
        .await
        .unwrap();
    for row in &counts {
        assert_eq!(row.get::<_, i64>(1), 160, "16 tasks x 10 rows per tenant");
        assert_eq!(row.get::<_, i64>(2), 0);
    }
}
