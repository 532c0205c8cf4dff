//! Keys: primary keys lead with the tenant, so no key of one tenant can
//! collide with, reveal or block another's; unique keys of soft-delete
//! models hold live rows only; upsert and restore respect both. Always as
//! the application role; the superuser only seeds and inspects.

use tenant_model::prelude::*;

use crate::models::{self, User};
use crate::support::{app_db, count, seeded_with, user, Seed};

/// A tenant table keyed by a string the caller chooses (a SKU).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "skus")]
pub struct Sku {
    #[tenant_model(primary_key, max_length = 40)]
    pub code: String,
    pub name: String,
}

/// A tenant table keyed by an integer the caller chooses.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "counters")]
pub struct Counter {
    #[tenant_model(primary_key)]
    pub n: i64,
    pub label: String,
}

/// Invoice numbers are never reused, not even after a soft delete.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(soft_delete, unique(number, include_deleted = true))]
pub struct Invoice {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub number: i64,
}

async fn seeded() -> Seed {
    seeded_with(
        models::schema()
            .model::<Sku>()
            .model::<Counter>()
            .model::<Invoice>(),
    )
    .await
}

fn sku(code: &str, name: &str) -> Sku {
    Sku {
        code: code.to_owned(),
        name: name.to_owned(),
    }
}

#[tokio::test]
async fn re_signup_with_the_email_of_a_soft_deleted_user_succeeds() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .unwrap();

    let again = scope().insert(user("ann@acme.test")).await.unwrap();
    assert!(!again.is_deleted());
    assert_ne!(again.id, seed.user_a);
    // Still one live row per email.
    let err = scope().insert(user("ann@acme.test")).await.unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint: Some(c), .. } if c == "uq_tenant_email"),
        "{err}"
    );
}

#[tokio::test]
async fn upsert_next_to_a_soft_deleted_row_inserts_a_live_row() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .unwrap();

    let mut new = user("ann@acme.test");
    new.full_name = "Ann again".into();
    let stored = scope()
        .upsert(new.clone(), &[User::EMAIL.into()])
        .await
        .unwrap();
    assert_eq!(stored.id, new.id, "a new row, not the deleted one");
    assert!(!stored.is_deleted());
    assert_eq!(stored.full_name, "Ann again");

    // A second upsert updates the live row, still not the deleted one.
    let mut newer = user("ann@acme.test");
    newer.full_name = "Ann third".into();
    let updated = scope().upsert(newer, &[User::EMAIL.into()]).await.unwrap();
    assert_eq!(updated.id, new.id);
    assert_eq!(updated.full_name, "Ann third");

    let su = seed.db.superuser().await.unwrap();
    let old = su
        .query_one(
            "SELECT full_name, is_deleted FROM users WHERE id = $1",
            &[&seed.user_a],
        )
        .await
        .unwrap();
    assert_eq!(
        old.get::<_, String>(0),
        "Ann",
        "the deleted row is untouched"
    );
    assert!(old.get::<_, bool>(1), "and still deleted");
}

#[tokio::test]
async fn upsert_by_primary_key_never_touches_a_soft_deleted_row() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .unwrap();

    let mut same_id = user("other@acme.test");
    same_id.id = seed.user_a;
    let err = scope()
        .upsert(same_id, &[User::ID.into()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint: Some(c), .. } if c == "users_pkey"),
        "the key is held by a deleted row: {err}"
    );
    let su = seed.db.superuser().await.unwrap();
    let untouched = count(
        &su,
        &format!(
            "SELECT count(*) FROM users WHERE id = '{}' AND is_deleted AND email = 'ann@acme.test'",
            seed.user_a
        ),
    )
    .await;
    assert_eq!(untouched, 1);

    // On a live row the same upsert updates it.
    let mut live = user("bob2@acme.test");
    let first = scope().insert(live.clone()).await.unwrap();
    live.full_name = "Bob Two".into();
    let updated = scope().upsert(live, &[User::ID.into()]).await.unwrap();
    assert_eq!(updated.id, first.id);
    assert_eq!(updated.full_name, "Bob Two");
}

#[tokio::test]
async fn upsert_on_columns_that_are_no_key_is_a_typed_error() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    for conflict in [vec![User::FULL_NAME.into()], vec![]] {
        let err = db
            .tenant(seed.tenant_a)
            .upsert(user("x@acme.test"), &conflict)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    }
}

#[tokio::test]
async fn restore_into_a_taken_key_is_a_unique_violation() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    scope()
        .soft_delete::<User>(seed.user_a, None)
        .await
        .unwrap();
    scope().insert(user("ann@acme.test")).await.unwrap();

    let err = scope().restore::<User>(seed.user_a).await.unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { constraint: Some(c), .. } if c == "uq_tenant_email"),
        "{err}"
    );
    let still = User::query()
        .only_deleted()
        .count(&mut scope())
        .await
        .unwrap();
    assert_eq!(still, 1, "the row stays deleted");
}

#[tokio::test]
async fn a_key_that_includes_deleted_rows_still_blocks_reuse() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    let invoice = |number| Invoice {
        id: Uuid::now_v7(),
        number,
    };
    let first = scope().insert(invoice(1)).await.unwrap();
    scope()
        .soft_delete::<Invoice>(first.id, None)
        .await
        .unwrap();

    let is_number_key = |err: &Error| matches!(err, Error::UniqueViolation { constraint: Some(c), .. } if c == "invoices_tenant_id_number_key");
    let err = scope().insert(invoice(1)).await.unwrap_err();
    assert!(is_number_key(&err), "{err}");
    let err = scope()
        .upsert(invoice(1), &[Invoice::NUMBER.into()])
        .await
        .unwrap_err();
    assert!(
        is_number_key(&err),
        "upsert leaves the deleted row alone: {err}"
    );

    let su = seed.db.superuser().await.unwrap();
    let rows = count(&su, "SELECT count(*) FROM invoices WHERE number = 1").await;
    assert_eq!(rows, 1, "only the deleted invoice");
    let deleted = count(
        &su,
        &format!(
            "SELECT count(*) FROM invoices WHERE id = '{}' AND is_deleted",
            first.id
        ),
    )
    .await;
    assert_eq!(deleted, 1);
    // Another tenant has its own numbers.
    db.tenant(seed.tenant_b).insert(invoice(1)).await.unwrap();
}

#[tokio::test]
async fn tenants_may_use_the_same_string_and_integer_keys() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let (a, b) = (db.tenant(seed.tenant_a), db.tenant(seed.tenant_b));

    a.clone().insert(sku("ABC-1", "A's widget")).await.unwrap();
    // Neither an error (an existence oracle) nor a block (denial of service).
    b.clone().insert(sku("ABC-1", "B's widget")).await.unwrap();
    assert_eq!(
        a.clone()
            .find::<Sku>("ABC-1".to_owned())
            .await
            .unwrap()
            .name,
        "A's widget"
    );
    assert_eq!(
        b.clone()
            .find::<Sku>("ABC-1".to_owned())
            .await
            .unwrap()
            .name,
        "B's widget"
    );
    let err = a.clone().insert(sku("ABC-1", "again")).await.unwrap_err();
    assert!(err.is_unique_violation(), "unique within the tenant: {err}");

    for (scope, label) in [(&a, "A"), (&b, "B")] {
        let counter = Counter {
            n: 1,
            label: label.to_owned(),
        };
        scope.clone().insert(counter).await.unwrap();
    }
    assert_eq!(b.clone().find::<Counter>(1).await.unwrap().label, "B");

    // Deleting in one tenant leaves the other's row with the same key.
    a.clone()
        .force_delete::<Sku>("ABC-1".to_owned())
        .await
        .unwrap();
    assert!(b
        .clone()
        .get::<Sku>("ABC-1".to_owned())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn by_key_operations_on_tenant_tables_need_a_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    for tenant in [seed.tenant_a, seed.tenant_b] {
        db.tenant(tenant).insert(sku("K", "k")).await.unwrap();
    }
    // A key is unique only within its tenant: in the admin scope it could
    // name a row of every tenant, so by-key operations refuse.
    let admin = db.admin("support ticket 9").unwrap();
    let err = admin
        .run(async |tx| tx.find::<Sku>("K".to_owned()).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoTenantContext), "{err}");
    let err = admin
        .run(async |tx| tx.force_delete::<Sku>("K".to_owned()).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoTenantContext), "{err}");
    let err = admin
        .run(async |tx| {
            tx.update::<Sku>("K".to_owned(), Changes::new().set(Sku::NAME, "x"))
                .await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoTenantContext), "{err}");
    let su = seed.db.superuser().await.unwrap();
    assert_eq!(
        count(&su, "SELECT count(*) FROM skus WHERE name = 'k'").await,
        2
    );
    // Queries, which say what they select, still see every tenant.
    let all = admin
        .run(async |tx| Sku::query().filter(Sku::CODE.eq("K")).count(tx).await)
        .await
        .unwrap();
    assert_eq!(all, 2);
}

#[tokio::test]
async fn slugs_are_changed_by_the_admin_scope_only() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let scope = || db.tenant(seed.tenant_a);
    // Taking another tenant's slug would reveal that it exists (a unique
    // violation) and a free one could be squatted: both are refused alike.
    for slug in ["globex", "acme-renamed"] {
        let err = scope()
            .update::<Tenant>(seed.tenant_a.into(), Changes::new().set(Tenant::SLUG, slug))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::PermissionDenied { .. }),
            "{slug}: {err}"
        );
    }
    // Renaming stays the tenant's own business.
    let renamed = scope()
        .update::<Tenant>(
            seed.tenant_a.into(),
            Changes::new().set(Tenant::NAME, "Acme Inc"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.slug, "acme");

    let moved = db
        .admin("slug change, ticket 12")
        .unwrap()
        .run(async |tx| {
            tx.update::<Tenant>(
                seed.tenant_a.into(),
                Changes::new().set(Tenant::SLUG, "acme-renamed"),
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(moved.slug, "acme-renamed");
}

#[tokio::test]
async fn find_by_key_is_one_index_probe_on_the_primary_key() {
    let seed = seeded().await;
    let su = seed.db.superuser().await.unwrap();
    for tenant in [seed.tenant_a, seed.tenant_b] {
        su.execute(
            "INSERT INTO users (tenant_id, email, full_name) \
             SELECT $1, 'u' || g || '@x.test', 'U' FROM generate_series(1, 2000) g",
            &[&tenant],
        )
        .await
        .unwrap();
    }
    su.batch_execute("ANALYZE users").await.unwrap();

    let mut app = seed.db.app().await.unwrap();
    let tx = crate::support::in_tenant(&mut app, seed.tenant_a).await;
    let find = &User::sql().scoped.find;
    let row = tx
        .query_one(
            &format!("EXPLAIN (FORMAT JSON) {find}"),
            &[&seed.tenant_a, &seed.user_a],
        )
        .await
        .unwrap();
    let plan: serde_json::Value = row.get(0);
    let mut scans = Vec::new();
    collect_scans(&plan[0]["Plan"], &mut scans);
    assert_eq!(scans.len(), 1, "one scan of users: {plan:#}");
    let scan = scans[0];
    assert_eq!(scan["Node Type"], "Index Scan", "{plan:#}");
    assert_eq!(scan["Index Name"], "users_pkey", "{plan:#}");
    let cond = scan["Index Cond"].as_str().unwrap_or_default();
    assert!(
        cond.contains("tenant_id =") && cond.contains("(id ="),
        "both key columns are index conditions: {plan:#}"
    );
}

/// The plan nodes that read a table.
fn collect_scans<'a>(node: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    if node.get("Relation Name").is_some() {
        out.push(node);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_scans(child, out);
    }
}

#[tokio::test]
async fn every_key_of_a_tenant_table_leads_with_tenant_id() {
    let seed = seeded().await;
    let su = seed.db.superuser().await.unwrap();
    // (index, its first column) for every unique index of a tenant table.
    let keys: Vec<(String, String)> = su
        .query(
            "SELECT i.indexrelid::regclass::text, a.attname::text \
             FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] \
             WHERE i.indisunique AND c.relnamespace = 'public'::regnamespace \
               AND EXISTS (SELECT FROM pg_attribute t \
                           WHERE t.attrelid = c.oid AND t.attname = 'tenant_id') \
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for key in [
        "users_pkey",
        "uq_tenant_email",
        "skus_pkey",
        "user_team_links_pkey",
    ] {
        assert!(keys.iter().any(|(name, _)| name == key), "{key}: {keys:?}");
    }
    assert!(
        keys.iter().all(|(_, first)| first == "tenant_id"),
        "{keys:?}"
    );

    // Foreign keys between tenant tables point at the target's primary key.
    let targets: Vec<(String, String)> = su
        .query(
            "SELECT conname::text, conindid::regclass::text FROM pg_constraint \
             WHERE contype = 'f' AND connamespace = 'public'::regnamespace \
               AND confrelid NOT IN ('tenants'::regclass, 'plans'::regclass) \
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(!targets.is_empty());
    assert!(
        targets.iter().all(|(_, index)| index.ends_with("_pkey")),
        "{targets:?}"
    );
}
