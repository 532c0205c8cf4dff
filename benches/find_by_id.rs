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
//! The three tenant-bound ones run on the same pooled connection (a pool of
//! one, as the application role, so RLS applies) with deadpool's statement
//! cache, as a hand-written app would; all four select the same columns and
//! decode the row into the same `Record<User>`, so the differences are
//! round trips and the library's own work.
//!
//! Criterion measures each variant in turn. Because this machine's timings
//! drift, the ratios are then measured again *interleaved*: rounds that run
//! each variant once, in rotating order, with the median of each variant's
//! times. Both sets of ratios are printed and written to
//! `target/criterion/find_by_id/ratios.json`.

#![allow(unreachable_pub)]

#[path = "../examples/saas/models.rs"]
#[allow(dead_code)]
mod models;
mod support;

use std::time::Duration;

use tenant_model::testing::TestDb;
use tenant_model::{Db, Executor, Model, Record};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};
use uuid::Uuid;

use models::User;

const VARIANTS: [&str; 4] = ["raw_select", "naive_tx", "pipelined_tx", "tenant_scope"];

struct Fixture {
    _db: TestDb,
    tenant: Uuid,
    tenant_text: String,
    user: Uuid,
    scope_db: Db,
    owner: Client,
    raw_select: Statement,
    select_sql: String,
}

async fn fixture() -> Fixture {
    let db = TestDb::new(&models::schema()).await.expect("test database");
    let owner = db.superuser().await.expect("superuser");
    let (tenant, user) = (Uuid::now_v7(), Uuid::now_v7());
    owner
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme')",
            &[&tenant],
        )
        .await
        .expect("tenant");
    owner
        .execute(
            "INSERT INTO users (id, tenant_id, email, full_name) VALUES ($1, $2, 'ann@acme.test', 'Ann')",
            &[&user, &tenant],
        )
        .await
        .expect("user");
    // The same columns the library selects, so all decode the same row.
    let select = format!(
        "SELECT {} FROM users WHERE id = $1",
        User::sql().select_list
    );
    Fixture {
        tenant,
        tenant_text: tenant.to_string(),
        user,
        scope_db: Db::from_pool(db.app_pool(1)),
        raw_select: owner.prepare(&select).await.expect("prepare"),
        select_sql: select,
        owner,
        _db: db,
    }
}

impl Fixture {
    /// BEGIN, the context, the SELECT and COMMIT, prepared once per
    /// connection (deadpool's statement cache), as a hand-written app would.
    async fn prepared(&self, conn: &deadpool_postgres::Object) -> [Statement; 4] {
        let mut out = Vec::with_capacity(4);
        for sql in [
            "BEGIN",
            "SELECT set_config('app.tenant_id', $1, true)",
            &self.select_sql,
            "COMMIT",
        ] {
            out.push(conn.prepare_cached(sql).await.expect("prepare"));
        }
        out.try_into().expect("four statements")
    }

    async fn run(&self, variant: &str) {
        let record = match variant {
            "raw_select" => {
                let row = self
                    .owner
                    .query_one(&self.raw_select, &[&self.user])
                    .await
                    .unwrap();
                Record::<User>::from_row(&row).unwrap()
            }
            "naive_tx" => {
                let conn = self.scope_db.pool().get().await.unwrap();
                let [begin, set_context, select, commit] = self.prepared(&conn).await;
                conn.execute(&begin, &[]).await.unwrap();
                conn.execute(&set_context, &[&self.tenant_text])
                    .await
                    .unwrap();
                let row = conn.query_one(&select, &[&self.user]).await.unwrap();
                conn.execute(&commit, &[]).await.unwrap();
                Record::<User>::from_row(&row).unwrap()
            }
            "pipelined_tx" => {
                let conn = self.scope_db.pool().get().await.unwrap();
                let [begin, set_context, select, commit] = self.prepared(&conn).await;
                let context: [&(dyn ToSql + Sync); 1] = [&self.tenant_text];
                let key: [&(dyn ToSql + Sync); 1] = [&self.user];
                let (begun, set, row, committed) = tokio::join!(
                    biased;
                    conn.execute(&begin, &[]),
                    conn.execute(&set_context, &context),
                    conn.query_one(&select, &key),
                    conn.execute(&commit, &[]),
                );
                begun.unwrap();
                set.unwrap();
                committed.unwrap();
                Record::<User>::from_row(&row.unwrap()).unwrap()
            }
            "tenant_scope" => self
                .scope_db
                .tenant(self.tenant)
                .find::<User>(self.user)
                .await
                .unwrap(),
            other => unreachable!("unknown variant {other}"),
        };
        assert_eq!(record.id, self.user);
    }
}

fn main() {
    let runtime = support::runtime();
    let f = runtime.block_on(fixture());
    let m = support::measure(
        &runtime,
        "find_by_id",
        VARIANTS,
        (Duration::from_secs(5), Duration::from_secs(2)),
        3000,
        |v| f.run(v),
    );
    let (interleaved, rounds) = (m.interleaved, m.rounds);
    report(&m.dir, interleaved, rounds);
}

/// Prints and stores the ratios: criterion's medians, and the interleaved medians.
fn report(dir: &std::path::Path, interleaved: [f64; 4], rounds: usize) {
    let sequential = support::criterion_medians(dir, VARIANTS);
    let ratios = |m: &[f64]| {
        let [raw, naive, piped, scope] = [m[0], m[1], m[2], m[3]];
        serde_json::json!({
            "median_ns": { "raw_select": raw, "naive_tx": naive, "pipelined_tx": piped, "tenant_scope": scope },
            "tenant_scope_over_pipelined_tx": scope / piped,
            "naive_tx_over_tenant_scope": naive / scope,
            "tenant_scope_over_raw_select": scope / raw,
            "pipelined_tx_over_raw_select": piped / raw,
            "naive_tx_over_raw_select": naive / raw,
        })
    };
    let all = serde_json::json!({
        "criterion_sequential": ratios(&sequential),
        "interleaved": ratios(&interleaved),
        "interleaved_rounds": rounds,
    });
    for (label, m) in [
        ("criterion (sequential)", &sequential[..]),
        ("interleaved", &interleaved[..]),
    ] {
        let [raw, naive, piped, scope] = [m[0], m[1], m[2], m[3]];
        println!("\nratios of medians, {label}:");
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
        println!(
            "  medians (µs): raw {:.1}, naive {:.1}, pipelined {:.1}, scope {:.1}",
            raw / 1e3,
            naive / 1e3,
            piped / 1e3,
            scope / 1e3
        );
    }
    support::write_ratios(dir, &all);
}
