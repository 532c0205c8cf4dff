//! find-by-id through the tenant scope against raw tokio-postgres, in one run.
//!
//! ```text
//! cargo bench --bench find_by_id
//! ```
//!
//! Four ways to read one row by primary key:
//! - `raw_select`: a prepared SELECT, no transaction, no context (the floor);
//! - `naive_tx`: BEGIN; set_config; SELECT; COMMIT, each awaited (4 round trips);
//! - `pipelined_tx`: the same four statements sent at once (1 round trip);
//! - `tenant_scope`: `db.tenant(t).find::<User>(id)` (1 round trip, typed).
//!
//! The tenant-bound ones connect as the application role (RLS applies).
//! After the measurements it prints the ratios of the means and writes them
//! to `target/criterion/find_by_id/ratios.json`.

#![allow(unreachable_pub)]
#[path = "../examples/saas/models.rs"]
#[allow(dead_code)]
mod models;

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;
use tenant_model::testing::TestDb;
use tenant_model::{Db, Executor, Model};
use uuid::Uuid;

use models::User;

struct Fixture {
    _db: TestDb,
    tenant: Uuid,
    user: Uuid,
    scope_db: Db,
    app: tokio_postgres::Client,
    owner: tokio_postgres::Client,
}

async fn fixture() -> Fixture {
    let db = TestDb::new(&models::schema()).await.expect("test database");
    let su = db.superuser().await.expect("superuser");
    let (tenant, user) = (Uuid::now_v7(), Uuid::now_v7());
    su.execute(
        "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme')",
        &[&tenant],
    )
    .await
    .expect("tenant");
    su.execute(
        "INSERT INTO users (id, tenant_id, email, full_name) VALUES ($1, $2, 'ann@acme.test', 'Ann')",
        &[&user, &tenant],
    )
    .await
    .expect("user");
    let scope_db = Db::from_pool(db.app_pool(1));
    let app = db.app().await.expect("app connection");
    Fixture {
        tenant,
        user,
        scope_db,
        app,
        owner: su,
        _db: db,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let f = runtime.block_on(fixture());
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let mut c = Criterion::default()
        .output_directory(&out)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();

    // The same columns the library selects, so both decode the same row.
    let select = format!(
        "SELECT {} FROM users WHERE id = $1",
        User::sql().select_list
    );
    let raw_stmt = runtime.block_on(f.owner.prepare(&select)).expect("prepare");
    let app_stmts = runtime.block_on(async {
        (
            f.app.prepare("BEGIN").await.unwrap(),
            f.app
                .prepare("SELECT set_config('app.tenant_id', $1, true)")
                .await
                .unwrap(),
            f.app.prepare(&select).await.unwrap(),
            f.app.prepare("COMMIT").await.unwrap(),
        )
    });
    let tenant_text = f.tenant.to_string();

    let mut group = c.benchmark_group("find_by_id");
    group.bench_function("raw_select", |b| {
        b.to_async(&runtime).iter(|| async {
            let row = f.owner.query_one(&raw_stmt, &[&f.user]).await.unwrap();
            assert_eq!(row.get::<_, Uuid>(0), f.user);
        })
    });
    group.bench_function("naive_tx", |b| {
        let (begin, ctx, select, commit) = &app_stmts;
        b.to_async(&runtime).iter(|| async {
            f.app.execute(begin, &[]).await.unwrap();
            f.app.execute(ctx, &[&tenant_text]).await.unwrap();
            let row = f.app.query_one(select, &[&f.user]).await.unwrap();
            f.app.execute(commit, &[]).await.unwrap();
            assert_eq!(row.get::<_, Uuid>(0), f.user);
        })
    });
    group.bench_function("pipelined_tx", |b| {
        let (begin, ctx, select, commit) = &app_stmts;
        b.to_async(&runtime).iter(|| async {
            let ctx_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&tenant_text];
            let select_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&f.user];
            let (b1, c1, row, c2) = tokio::join!(
                biased;
                f.app.execute(begin, &[]),
                f.app.execute(ctx, &ctx_params),
                f.app.query_one(select, &select_params),
                f.app.execute(commit, &[]),
            );
            b1.unwrap();
            c1.unwrap();
            c2.unwrap();
            assert_eq!(row.unwrap().get::<_, Uuid>(0), f.user);
        })
    });
    group.bench_function("tenant_scope", |b| {
        b.to_async(&runtime).iter(|| async {
            let user = f
                .scope_db
                .tenant(f.tenant)
                .find::<User>(f.user)
                .await
                .unwrap();
            assert_eq!(user.id, f.user);
        })
    });
    group.finish();
    c.final_summary();
    report_ratios(&out.join("find_by_id"));
}

/// Reads criterion's mean estimates and prints the ratios between them.
fn report_ratios(dir: &std::path::Path) {
    let mean = |name: &str| -> Option<f64> {
        let text = std::fs::read_to_string(dir.join(name).join("new/estimates.json")).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json["mean"]["point_estimate"].as_f64()
    };
    let names = ["raw_select", "naive_tx", "pipelined_tx", "tenant_scope"];
    let means: Vec<Option<f64>> = names.iter().map(|n| mean(n)).collect();
    let [Some(raw), Some(naive), Some(piped), Some(scope)] = means[..] else {
        eprintln!(
            "no estimates under {} (run without --test to measure)",
            dir.display()
        );
        return;
    };
    let ratios = serde_json::json!({
        "mean_ns": { "raw_select": raw, "naive_tx": naive, "pipelined_tx": piped, "tenant_scope": scope },
        "tenant_scope_over_pipelined_tx": scope / piped,
        "naive_tx_over_tenant_scope": naive / scope,
        "tenant_scope_over_raw_select": scope / raw,
        "pipelined_tx_over_raw_select": piped / raw,
        "naive_tx_over_raw_select": naive / raw,
    });
    println!("\nratios of means (one run):");
    println!(
        "  tenant_scope / pipelined_tx = {:.3}  (target <= 1.1)",
        scope / piped
    );
    println!(
        "  naive_tx / tenant_scope     = {:.3}  (target >= 2)",
        naive / scope
    );
    println!("  tenant_scope / raw_select   = {:.3}", scope / raw);
    println!("  pipelined_tx / raw_select   = {:.3}", piped / raw);
    println!("  naive_tx / raw_select       = {:.3}", naive / raw);
    let _ = std::fs::write(
        dir.join("ratios.json"),
        serde_json::to_string_pretty(&ratios).unwrap_or_default(),
    );
}
