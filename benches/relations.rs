//! Eager loading of 100 organizations with their teams, through the
//! library against the same two queries written by hand with
//! tokio-postgres, in one run.
//!
//! ```text
//! cargo bench --bench relations
//! BENCH_ROUNDS=500 cargo bench --bench relations -- zzz   # interleaved run only
//! ```
//!
//! - `hand_written`: on a pooled connection (the application role, so RLS
//!   applies), `BEGIN`, `set_config('app.tenant_id', ...)` and the
//!   organizations' `SELECT` sent at once, then `SELECT ... FROM teams
//!   WHERE tenant_id = $1 AND organization_id = ANY($2)`, then `COMMIT`;
//!   rows decoded into `Record`s and grouped by organization in a
//!   `HashMap`: three round trips, statements prepared once per connection.
//! - `eager`: `Organization::query().with(Organization::TEAMS).all(&mut
//!   db.tenant(t))`: the same three round trips.
//!
//! Criterion measures each in turn; then the ratio is measured again
//! interleaved (rounds that run each variant once, rotating which goes
//! first) with the median of each variant's times. Both are printed and
//! written to `target/criterion/relations/ratios.json`.

#![allow(unreachable_pub)]

#[path = "../examples/saas/models.rs"]
#[allow(dead_code)]
mod models;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use tenant_model::testing::TestDb;
use tenant_model::{Db, Executor, Model, Record};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use models::{Organization, Team};

const VARIANTS: [&str; 2] = ["hand_written", "eager"];
const PARENTS: usize = 100;
const CHILDREN: usize = 5;

struct Fixture {
    _db: TestDb,
    tenant: Uuid,
    tenant_text: String,
    db: Db,
    orgs_sql: String,
    teams_sql: String,
}

async fn fixture() -> Fixture {
    let test_db = TestDb::new(&models::schema()).await.expect("test database");
    let owner = test_db.superuser().await.expect("superuser");
    let tenant = Uuid::now_v7();
    owner
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme')",
            &[&tenant],
        )
        .await
        .expect("tenant");
    let db = Db::from_pool(test_db.app_pool(1));
    let orgs: Vec<Organization> = (0..PARENTS)
        .map(|i| Organization {
            id: Uuid::now_v7(),
            name: format!("org {i}"),
        })
        .collect();
    let teams: Vec<Team> = orgs
        .iter()
        .flat_map(|o| {
            (0..CHILDREN).map(|i| Team {
                id: Uuid::now_v7(),
                organization_id: o.id,
                name: format!("team {i}"),
            })
        })
        .collect();
    let mut scope = db.tenant(tenant);
    scope.insert_many(&orgs).await.expect("organizations");
    scope.insert_many(&teams).await.expect("teams");
    // The statements the library sends, written out by hand.
    let orgs_sql = format!(
        "SELECT {} FROM organizations WHERE tenant_id = $1",
        Organization::sql().select_list
    );
    let teams_sql = format!(
        "SELECT {} FROM teams WHERE tenant_id = $1 AND organization_id = ANY($2) ORDER BY id",
        Team::sql().select_list
    );
    Fixture {
        _db: test_db,
        tenant,
        tenant_text: tenant.to_string(),
        db,
        orgs_sql,
        teams_sql,
    }
}

impl Fixture {
    async fn hand_written(&self) -> usize {
        let conn = self.db.pool().get().await.unwrap();
        let begin = conn.prepare_cached("BEGIN").await.unwrap();
        let context = conn
            .prepare_cached("SELECT set_config('app.tenant_id', $1, true)")
            .await
            .unwrap();
        let orgs = conn.prepare_cached(&self.orgs_sql).await.unwrap();
        let teams = conn.prepare_cached(&self.teams_sql).await.unwrap();
        let commit = conn.prepare_cached("COMMIT").await.unwrap();
        let context_param: [&(dyn ToSql + Sync); 1] = [&self.tenant_text];
        let tenant_param: [&(dyn ToSql + Sync); 1] = [&self.tenant];
        let (begun, set, org_rows) = tokio::join!(
            biased;
            conn.execute(&begin, &[]),
            conn.execute(&context, &context_param),
            conn.query(&orgs, &tenant_param),
        );
        begun.unwrap();
        set.unwrap();
        let orgs: Vec<Record<Organization>> = org_rows
            .unwrap()
            .iter()
            .map(|r| Record::from_row(r).unwrap())
            .collect();
        let keys: Vec<Uuid> = orgs.iter().map(|o| o.id).collect();
        let team_rows = conn.query(&teams, &[&self.tenant, &keys]).await.unwrap();
        let mut by_org: HashMap<Uuid, Vec<Record<Team>>> = HashMap::new();
        for row in &team_rows {
            let team = Record::<Team>::from_row(row).unwrap();
            by_org.entry(team.organization_id).or_default().push(team);
        }
        conn.execute(&commit, &[]).await.unwrap();
        let loaded: Vec<(Record<Organization>, Vec<Record<Team>>)> = orgs
            .into_iter()
            .map(|o| {
                let teams = by_org.remove(&o.id).unwrap_or_default();
                (o, teams)
            })
            .collect();
        loaded.iter().map(|(_, t)| t.len()).sum()
    }

    async fn eager(&self) -> usize {
        let orgs = Organization::query()
            .with(Organization::TEAMS)
            .all(&mut self.db.tenant(self.tenant))
            .await
            .unwrap();
        orgs.iter().map(|o| o.related.len()).sum()
    }

    async fn run(&self, variant: &str) {
        let teams = match variant {
            "hand_written" => self.hand_written().await,
            "eager" => self.eager().await,
            other => unreachable!("unknown variant {other}"),
        };
        assert_eq!(teams, PARENTS * CHILDREN);
    }
}

fn main() {
    let runtime = support::runtime();
    let f = runtime.block_on(fixture());
    let m = support::measure(
        &runtime,
        "relations",
        VARIANTS,
        (Duration::from_secs(3), Duration::from_secs(1)),
        500,
        |v| f.run(v),
    );
    let (interleaved, rounds) = (m.interleaved, m.rounds);
    report(&m.dir, interleaved, rounds);
}

/// Prints and stores the ratio of medians: criterion's and the interleaved one.
fn report(dir: &std::path::Path, interleaved: [f64; 2], rounds: usize) {
    let sequential = support::criterion_medians(dir, VARIANTS);
    let ratios = |[hand, eager]: [f64; 2]| {
        serde_json::json!({
            "median_ns": { "hand_written": hand, "eager": eager },
            "eager_over_hand_written": eager / hand,
        })
    };
    let all = serde_json::json!({
        "parents": PARENTS,
        "children_per_parent": CHILDREN,
        "criterion_sequential": ratios(sequential),
        "interleaved": ratios(interleaved),
        "interleaved_rounds": rounds,
    });
    for (label, [hand, eager]) in [
        ("criterion (sequential)", sequential),
        ("interleaved", interleaved),
    ] {
        println!("\nratio of medians, {label}:");
        println!(
            "  eager / hand_written = {:.3}  (target <= 1.2)",
            eager / hand
        );
        println!(
            "  medians (µs): hand-written {:.1}, eager {:.1}",
            hand / 1e3,
            eager / 1e3
        );
    }
    support::write_ratios(dir, &all);
}
