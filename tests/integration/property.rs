//! A property test of isolation: random sequences of operations by three
//! tenants on one small pool, checked after every step against a model of
//! what each tenant owns. Each tenant must see exactly its own rows, and
//! never find, change or delete another tenant's.
//!
//! CI runs a short variant; `TENANT_MODEL_PROPTEST_CASES=500 cargo test
//! --test integration property` runs a long one.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tenant_model::{Changes, Executor, Model, Tenant, TenantId};
use uuid::Uuid;

use crate::models::User;
use crate::support::{app_db, user};

const TENANTS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Insert {
        tenant: usize,
        in_tx: bool,
    },
    Rename {
        tenant: usize,
        pick: usize,
    },
    SoftDelete {
        tenant: usize,
        pick: usize,
    },
    Restore {
        tenant: usize,
        pick: usize,
    },
    ForceDelete {
        tenant: usize,
        pick: usize,
    },
    /// `tenant` tries to read, change and delete a row of `other`.
    Trespass {
        tenant: usize,
        other: usize,
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..TENANTS;
    prop_oneof![
        3 => (t.clone(), any::<bool>()).prop_map(|(tenant, in_tx)| Op::Insert { tenant, in_tx }),
        1 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::Rename { tenant, pick }),
        1 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::SoftDelete { tenant, pick }),
        1 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::Restore { tenant, pick }),
        1 => (t.clone(), any::<usize>()).prop_map(|(tenant, pick)| Op::ForceDelete { tenant, pick }),
        2 => (t.clone(), t, any::<usize>()).prop_map(|(tenant, other, pick)| Op::Trespass { tenant, other, pick }),
    ]
}

/// What each tenant owns: id -> (full name, soft-deleted).
type Owned = Vec<BTreeMap<Uuid, (String, bool)>>;

fn pick(rows: &BTreeMap<Uuid, (String, bool)>, n: usize, deleted: bool) -> Option<Uuid> {
    let matching: Vec<Uuid> = rows
        .iter()
        .filter(|(_, (_, d))| *d == deleted)
        .map(|(id, _)| *id)
        .collect();
    (!matching.is_empty()).then(|| matching[n % matching.len()])
}

async fn apply(db: &tenant_model::Db, tenants: &[TenantId], owned: &mut Owned, op: &Op) {
    match *op {
        Op::Insert { tenant, in_tx } => {
            let new = user(&format!("{}@t{tenant}.test", Uuid::now_v7()));
            let stored = if in_tx {
                let mut tx = db.tenant(tenants[tenant]).begin().await.unwrap();
                let stored = tx.insert(new.clone()).await.unwrap();
                tx.commit().await.unwrap();
                stored
            } else {
                db.tenant(tenants[tenant])
                    .insert(new.clone())
                    .await
                    .unwrap()
            };
            assert_eq!(stored.tenant_id(), Some(tenants[tenant]));
            owned[tenant].insert(new.id, (new.full_name, false));
        }
        Op::Rename { tenant, pick: n } => {
            if let Some(id) = pick(&owned[tenant], n, false) {
                let name = format!("renamed {n}");
                let changes = Changes::new().set(User::FULL_NAME, name.clone());
                db.tenant(tenants[tenant])
                    .update::<User>(id, changes)
                    .await
                    .unwrap();
                owned[tenant].insert(id, (name, false));
            }
        }
        Op::SoftDelete { tenant, pick: n } => {
            if let Some(id) = pick(&owned[tenant], n, false) {
                db.tenant(tenants[tenant])
                    .soft_delete::<User>(id, None)
                    .await
                    .unwrap();
                owned[tenant].entry(id).and_modify(|row| row.1 = true);
            }
        }
        Op::Restore { tenant, pick: n } => {
            if let Some(id) = pick(&owned[tenant], n, true) {
                db.tenant(tenants[tenant])
                    .restore::<User>(id)
                    .await
                    .unwrap();
                owned[tenant].entry(id).and_modify(|row| row.1 = false);
            }
        }
        Op::ForceDelete { tenant, pick: n } => {
            if let Some(id) = pick(&owned[tenant], n, n % 2 == 0) {
                db.tenant(tenants[tenant])
                    .force_delete::<User>(id)
                    .await
                    .unwrap();
                owned[tenant].remove(&id);
            }
        }
        Op::Trespass {
            tenant,
            other,
            pick: n,
        } => {
            if tenant == other {
                return;
            }
            let Some(id) = pick(&owned[other], n, false).or_else(|| pick(&owned[other], n, true))
            else {
                return;
            };
            let scope = || db.tenant(tenants[tenant]);
            assert!(
                scope().get::<User>(id).await.unwrap().is_none(),
                "found another tenant's row"
            );
            let changes = Changes::new().set(User::FULL_NAME, "pwned");
            assert!(scope()
                .update::<User>(id, changes)
                .await
                .unwrap_err()
                .is_not_found());
            assert!(scope()
                .soft_delete::<User>(id, None)
                .await
                .unwrap_err()
                .is_not_found());
            assert!(scope()
                .restore::<User>(id)
                .await
                .unwrap_err()
                .is_not_found());
            assert!(scope()
                .force_delete::<User>(id)
                .await
                .unwrap_err()
                .is_not_found());
            let listed = User::query()
                .with_deleted()
                .filter(User::ID.eq(id))
                .count(&mut scope())
                .await
                .unwrap();
            assert_eq!(listed, 0);
        }
    }
}

/// Each tenant sees exactly what it owns, live and deleted.
async fn check(db: &tenant_model::Db, tenants: &[TenantId], owned: &Owned) {
    for (t, tenant) in tenants.iter().enumerate() {
        let rows = User::query()
            .with_deleted()
            .all(&mut db.tenant(*tenant))
            .await
            .unwrap();
        let seen: BTreeMap<Uuid, (String, bool)> = rows
            .iter()
            .map(|r| (r.id, (r.full_name.clone(), r.is_deleted())))
            .collect();
        assert_eq!(seen, owned[t], "tenant {t} sees exactly its rows");
        let live = User::query().count(&mut db.tenant(*tenant)).await.unwrap();
        assert_eq!(live as usize, owned[t].values().filter(|(_, d)| !d).count());
    }
}

#[test]
fn random_operations_never_cross_tenants() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let test_db = runtime
        .block_on(tenant_model::testing::TestDb::new(&crate::models::schema()))
        .expect("test database");
    // Two connections shared by all tenants: contexts must never leak.
    let db = app_db(&test_db, 2);
    let cases = std::env::var("TENANT_MODEL_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(12);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        runtime.block_on(async {
            // Fresh tenants for every case, created through the admin scope.
            let admin = db.admin("property test set-up").unwrap();
            let mut tenants = Vec::new();
            for i in 0..TENANTS {
                let slug = format!("t{i}-{}", Uuid::now_v7());
                let tenant = admin
                    .run(async |tx| tx.insert(Tenant::new(format!("Tenant {i}"), slug)).await)
                    .await
                    .unwrap();
                tenants.push(tenant.id);
            }
            let mut owned: Owned = vec![BTreeMap::new(); TENANTS];
            for op in &ops {
                apply(&db, &tenants, &mut owned, op).await;
                check(&db, &tenants, &owned).await;
            }
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The admin scope saw every case's rows; the tenants saw only theirs.
    let all = runtime
        .block_on(
            db.admin("property test totals")
                .unwrap()
                .run(async |tx| Tenant::query().count(tx).await),
        )
        .unwrap();
    assert_eq!(all as u32, cases * TENANTS as u32);
}

/// Tasks of the concurrent variant: more than the pool's connections, which
/// are more than PgBouncer's server pool when the tests run behind it
/// (`TENANT_MODEL_POOLER=pgbouncer`), so transactions move between server
/// connections.
const CONCURRENT_TASKS: usize = 32;

#[test]
fn random_operations_from_32_concurrent_tasks_never_cross_tenants() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let test_db = runtime
        .block_on(tenant_model::testing::TestDb::new(&crate::models::schema()))
        .expect("test database");
    let db = app_db(&test_db, 16);
    // One random sequence of operations per task, each task with tenants
    // of its own, all on the same pool at once.
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(op(), 10..30);
    let sequences: Vec<Vec<Op>> = (0..CONCURRENT_TASKS)
        .map(|_| {
            use proptest::strategy::ValueTree;
            strategy.new_tree(&mut runner).unwrap().current()
        })
        .collect();
    let steps: usize = sequences.iter().map(Vec::len).sum();
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (n, ops) in sequences.into_iter().enumerate() {
            let db = db.clone();
            tasks.spawn(async move {
                let admin = db.admin("concurrent property test set-up").unwrap();
                let mut tenants = Vec::new();
                for i in 0..TENANTS {
                    let slug = format!("c{n}-{i}-{}", Uuid::now_v7());
                    let tenant = admin
                        .run(async |tx| {
                            tx.insert(Tenant::new(format!("Tenant {n}.{i}"), slug))
                                .await
                        })
                        .await
                        .unwrap();
                    tenants.push(tenant.id);
                }
                let mut owned: Owned = vec![BTreeMap::new(); TENANTS];
                for op in &ops {
                    apply(&db, &tenants, &mut owned, op).await;
                    check(&db, &tenants, &owned).await;
                }
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.expect("a task's operations stayed within its tenants");
        }
    });
    eprintln!(
        "property: {CONCURRENT_TASKS} concurrent tasks ran {steps} random operations, each \
         checked against its model ({:?} statement mode)",
        db.statement_mode()
    );
}
