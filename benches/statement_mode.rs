//! The pooler-safe statement mode against the cached one, in one run.
//!
//! ```text
//! cargo bench --bench statement_mode
//! BENCH_ROUNDS=4000 cargo bench --bench statement_mode -- zzz   # interleaved runs only
//! ```
//!
//! Two reads through the tenant scope, each in both modes, on a pool of one
//! connection as the application role, straight to PostgreSQL (so the
//! difference is the statement mode alone):
//! - `find_cached` / `find_pooler_safe`: `db.tenant(t).find::<User>(id)`;
//! - `list_cached` / `list_pooler_safe`: the tenant's first 50 users by
//!   email (`User::query().order_by(..).limit(50).all(..)`).
//!
//! In the cached mode the statement is prepared once per connection and then
//! only bound and executed; in the pooler-safe mode every call sends an
//! unnamed Parse/Bind/Execute, which the server parses and plans each time.
//!
//! When `pgbouncer` is installed, a second interleaved run measures the
//! pooler-safe find and list through a PgBouncer in transaction mode (the
//! cached mode does not work there), against the same calls straight to the
//! server: what the pooler's extra hop costs.
//!
//! Criterion measures the four direct variants one after the other, then
//! the interleaved run (rounds that run each variant once, rotating which
//! goes first) compares medians. Everything is printed and written to
//! `target/criterion/statement_mode/ratios.json`.

#![allow(unreachable_pub)]

#[path = "../examples/saas/models.rs"]
#[allow(dead_code)]
mod models;
mod support;

use std::time::Duration;

use tenant_model::testing::{shared_pgbouncer, PgBouncer, TestDb};
use tenant_model::{Db, Executor, Model, StatementMode};
use uuid::Uuid;

use models::User;

const VARIANTS: [&str; 4] = [
    "find_cached",
    "find_pooler_safe",
    "list_cached",
    "list_pooler_safe",
];
const THROUGH_PGBOUNCER: [&str; 4] = [
    "find_direct",
    "find_pgbouncer",
    "list_direct",
    "list_pgbouncer",
];
/// Users of the benched tenant (the list reads 50 of them).
const USERS: usize = 200;

struct Fixture {
    db: TestDb,
    tenant: Uuid,
    user: Uuid,
    cached: Db,
    pooler_safe: Db,
}

async fn fixture() -> Fixture {
    let db = TestDb::new(&models::schema()).await.expect("test database");
    let owner = db.superuser().await.expect("superuser");
    let (tenant, other) = (Uuid::now_v7(), Uuid::now_v7());
    owner
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme'), ($2, 'Globex', 'globex')",
            &[&tenant, &other],
        )
        .await
        .expect("tenants");
    // The benched tenant's users, and as many of another tenant.
    owner
        .execute(
            "INSERT INTO users (id, tenant_id, email, full_name) \
             SELECT gen_random_uuid(), t, 'user' || i || '@' || t || '.test', 'User ' || i \
             FROM unnest(ARRAY[$1::uuid, $2::uuid]) t, generate_series(1, $3) i",
            &[&tenant, &other, &(USERS as i32)],
        )
        .await
        .expect("users");
    let user: Uuid = owner
        .query_one(
            "SELECT id FROM users WHERE tenant_id = $1 ORDER BY email LIMIT 1",
            &[&tenant],
        )
        .await
        .expect("a user")
        .get(0);
    owner.batch_execute("ANALYZE users").await.expect("analyze");
    Fixture {
        tenant,
        user,
        cached: Db::from_pool(db.app_pool(1)),
        pooler_safe: Db::from_pool(db.app_pool(1)).with_statement_mode(StatementMode::PoolerSafe),
        db,
    }
}

async fn find(db: &Db, tenant: Uuid, user: Uuid) {
    let record = db.tenant(tenant).find::<User>(user).await.unwrap();
    assert_eq!(record.id, user);
}

async fn list(db: &Db, tenant: Uuid) {
    let rows = User::query()
        .order_by(User::EMAIL.asc())
        .limit(50)
        .all(db.tenant(tenant))
        .await
        .unwrap();
    assert_eq!(rows.len(), 50);
}

impl Fixture {
    async fn run(&self, variant: &str) {
        match variant {
            "find_cached" => find(&self.cached, self.tenant, self.user).await,
            "find_pooler_safe" => find(&self.pooler_safe, self.tenant, self.user).await,
            "list_cached" => list(&self.cached, self.tenant).await,
            "list_pooler_safe" => list(&self.pooler_safe, self.tenant).await,
            other => unreachable!("unknown variant {other}"),
        }
    }
}

fn main() {
    let runtime = support::runtime();
    let f = runtime.block_on(fixture());
    let m = support::measure(
        &runtime,
        "statement_mode",
        VARIANTS,
        (Duration::from_secs(4), Duration::from_secs(1)),
        3000,
        |v| f.run(v),
    );
    let (interleaved, rounds) = (m.interleaved, m.rounds);
    let dir = m.dir;
    let sequential = support::criterion_medians(&dir, VARIANTS);
    let ratios = |m: &[f64]| {
        serde_json::json!({
            "median_ns": {
                "find_cached": m[0], "find_pooler_safe": m[1],
                "list_cached": m[2], "list_pooler_safe": m[3],
            },
            "find_pooler_safe_over_cached": m[1] / m[0],
            "list_pooler_safe_over_cached": m[3] / m[2],
        })
    };
    let mut all = serde_json::json!({
        "criterion_sequential": ratios(&sequential),
        "interleaved": ratios(&interleaved),
        "interleaved_rounds": rounds,
    });
    for (label, m) in [
        ("criterion (sequential)", &sequential[..]),
        ("interleaved", &interleaved[..]),
    ] {
        println!("\nratios of medians, {label}:");
        println!("  find: pooler_safe / cached = {:.3}", m[1] / m[0]);
        println!("  list: pooler_safe / cached = {:.3}", m[3] / m[2]);
        println!(
            "  medians (µs): find cached {:.1}, pooler-safe {:.1}; list cached {:.1}, pooler-safe {:.1}",
            m[0] / 1e3,
            m[1] / 1e3,
            m[2] / 1e3,
            m[3] / 1e3
        );
    }

    if PgBouncer::binary().is_some() {
        let pooled = runtime.block_on(async {
            let bouncer = shared_pgbouncer().await.expect("start PgBouncer");
            // The same database and role, through PgBouncer.
            let config = bouncer.route(&f.db.app_config());
            Db::from_pool(Db::pool_from_config(config, 1))
                .with_statement_mode(StatementMode::PoolerSafe)
        });
        let medians = runtime.block_on(support::interleaved_medians(
            THROUGH_PGBOUNCER,
            rounds,
            async |v| match v {
                "find_direct" => find(&f.pooler_safe, f.tenant, f.user).await,
                "find_pgbouncer" => find(&pooled, f.tenant, f.user).await,
                "list_direct" => list(&f.pooler_safe, f.tenant).await,
                "list_pgbouncer" => list(&pooled, f.tenant).await,
                other => unreachable!("unknown variant {other}"),
            },
        ));
        println!("\npooler-safe mode through PgBouncer (transaction mode) vs direct, interleaved:");
        println!(
            "  find: pgbouncer / direct = {:.3}",
            medians[1] / medians[0]
        );
        println!(
            "  list: pgbouncer / direct = {:.3}",
            medians[3] / medians[2]
        );
        println!(
            "  medians (µs): find direct {:.1}, pgbouncer {:.1}; list direct {:.1}, pgbouncer {:.1}",
            medians[0] / 1e3,
            medians[1] / 1e3,
            medians[2] / 1e3,
            medians[3] / 1e3
        );
        all["through_pgbouncer"] = serde_json::json!({
            "median_ns": {
                "find_direct": medians[0], "find_pgbouncer": medians[1],
                "list_direct": medians[2], "list_pgbouncer": medians[3],
            },
            "find_pgbouncer_over_direct": medians[1] / medians[0],
            "list_pgbouncer_over_direct": medians[3] / medians[2],
        });
    } else {
        println!("\nNOT RUN: pgbouncer not installed: no run through PgBouncer");
    }
    support::write_ratios(&dir, &all);
}
