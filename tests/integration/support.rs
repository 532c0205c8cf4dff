//! Seeding and tenant-context helpers shared by the integration tests.

use tenant_model::testing::TestDb;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use crate::models;

/// Two tenants with one user each, seeded by the superuser.
pub struct Seed {
    pub db: TestDb,
    pub tenant_a: Uuid,
    pub tenant_b: Uuid,
    pub user_a: Uuid,
    pub user_b: Uuid,
}

/// A fresh database with the SaaS schema (plus the tests' own models) and
/// two seeded tenants.
pub async fn seeded() -> Seed {
    seeded_with(schema()).await
}

/// [`seeded`] with `schema` (the tests' own models are added to it).
pub async fn seeded_with(schema: tenant_model::Schema) -> Seed {
    let schema = schema
        .model::<crate::extra::Note>()
        .model::<crate::extra::Plan>()
        .model::<crate::extra::Event>();
    let db = TestDb::new(&schema).await.expect("test database");
    let admin = db.superuser().await.expect("superuser connection");
    let (tenant_a, tenant_b, user_a, user_b) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    admin
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme'), ($2, 'Globex', 'globex')",
            &[&tenant_a, &tenant_b],
        )
        .await
        .expect("seed tenants");
    admin
        .execute(
            "INSERT INTO users (id, tenant_id, email, full_name) VALUES \
             ($1, $2, 'ann@acme.test', 'Ann'), ($3, $4, 'bob@globex.test', 'Bob')",
            &[&user_a, &tenant_a, &user_b, &tenant_b],
        )
        .await
        .expect("seed users");
    Seed {
        db,
        tenant_a,
        tenant_b,
        user_a,
        user_b,
    }
}

/// The SaaS schema plus the tests' own models.
pub fn schema() -> tenant_model::Schema {
    models::schema()
        .model::<crate::extra::Note>()
        .model::<crate::extra::Plan>()
        .model::<crate::extra::Event>()
}

/// Whether the harness runs on Citus (`TENANT_MODEL_SERVER=citus`).
pub fn on_citus() -> bool {
    std::env::var(tenant_model::testing::SERVER_ENV).as_deref() == Ok("citus")
}

/// Says loudly, past libtest's capture, that a test of plain-PostgreSQL
/// behavior did not run on Citus.
pub fn plain_only(test: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "NOT RUN on Citus: {test} tests plain-PostgreSQL behavior (see its comment)"
    );
}

/// Opens a transaction carrying `tenant` as its (local) tenant context: a
/// bound `set_config` on plain PostgreSQL; on Citus, where only `SET LOCAL`
/// reaches the workers, the `SET LOCAL`s the library sends (the value is a
/// formatted `Uuid`), as their own message.
pub async fn in_tenant(client: &mut Client, tenant: Uuid) -> Transaction<'_> {
    let tx = client.transaction().await.expect("begin");
    if on_citus() {
        tx.batch_execute(&format!(
            "SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL app.tenant_id = '{}'",
            tenant.hyphenated()
        ))
        .await
        .expect("set tenant context");
        return tx;
    }
    tx.execute(
        "SELECT set_config('app.tenant_id', $1, true)",
        &[&tenant.to_string()],
    )
    .await
    .expect("set tenant context");
    tx
}

/// Switches row-level security off on `table` (as the superuser), to show
/// that the library's own statements still filter by tenant.
pub async fn without_rls(db: &TestDb, table: &str) {
    let su = db.superuser().await.expect("superuser connection");
    // One statement per message: Citus forwards these to the shards as
    // the query string it received.
    for statement in [
        format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
    ] {
        su.batch_execute(&statement).await.expect("switch RLS off");
    }
}

/// The first column of every row `sql` returns, as text.
pub async fn first_column(client: &impl tokio_postgres::GenericClient, sql: &str) -> Vec<String> {
    // Unnamed statements (`query_typed`): safe through a transaction-mode
    // pooler even outside a transaction.
    let rows = client.query_typed(sql, &[]).await.expect("query");
    rows.iter().map(|r| r.get(0)).collect()
}

/// The single `bigint` a `SELECT count(*) ...` returns.
pub async fn count(client: &impl tokio_postgres::GenericClient, sql: &str) -> i64 {
    client
        .query_typed_one(sql, &[])
        .await
        .expect("count query")
        .get(0)
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(err: &tokio_postgres::Error) -> &str {
    err.code().map_or("(no sqlstate)", |c| c.code())
}

/// A `Db` over the test database: the tenant pool connects as the
/// application role (neither superuser nor owner), the admin pool as the
/// admin role, in the harness's modes: Citus under
/// `TENANT_MODEL_SERVER=citus`; behind PgBouncer
/// (`TENANT_MODEL_POOLER=pgbouncer`) both pools go through it and the `Db`
/// is in the pooler-safe statement mode.
pub fn app_db(db: &TestDb, pool_size: usize) -> tenant_model::Db {
    db.app_db(pool_size)
}

/// A new user value for the SaaS model.
pub fn user(email: &str) -> models::User {
    models::User {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        full_name: email.split('@').next().unwrap_or(email).to_owned(),
        hashed_password: None,
        is_active: true,
        is_superuser: false,
        metadata: serde_json::json!({}),
        preferences: serde_json::json!({"theme": "light", "language": "en"}),
    }
}
