//! Bulk insert never loses or changes data: every column type round-trips
//! in batches of any size, a value a single insert rejects is rejected in a
//! batch too (no truncating casts), and a batch with one bad row stores
//! nothing, on a tenant scope and in a transaction. Always as the app role.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;
use tenant_model::testing::TestDb;
use tenant_model::{Db, Error, Executor};

/// An enum with a renamed label, to check enum arrays.
#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[tenant_model(type_name = "bulk_tier")]
pub enum Tier {
    Free,
    #[tenant_model(rename = "pro-plus")]
    ProPlus,
    Enterprise,
}

/// Typed JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub sides: i32,
    pub name: String,
}

/// One field of every scalar column type (the `unnest` path).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "bulk_scalars")]
pub struct Scalars {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub seq: i32,
    #[tenant_model(max_length = 255)]
    pub email: String,
    #[tenant_model(max_length = 20)]
    pub nick: Option<String>,
    pub body: String,
    pub note: Option<String>,
    pub flag: bool,
    pub maybe_flag: Option<bool>,
    pub small: i16,
    pub big: i64,
    pub maybe_int: Option<i32>,
    pub ratio: f32,
    pub weight: f64,
    pub maybe_weight: Option<f64>,
    pub day: NaiveDate,
    pub maybe_day: Option<NaiveDate>,
    pub local_at: NaiveDateTime,
    pub at: DateTime<Utc>,
    pub maybe_at: Option<DateTime<Utc>>,
    pub doc: serde_json::Value,
    pub maybe_doc: Option<serde_json::Value>,
    pub shape: Json<Shape>,
    pub tier: Tier,
    pub maybe_tier: Option<Tier>,
    pub other: Uuid,
    pub maybe_other: Option<Uuid>,
}

/// One array column of every element type (the multi-row `VALUES` path).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "bulk_arrays")]
pub struct Arrays {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub seq: i32,
    #[tenant_model(max_length = 255)]
    pub email: String,
    pub texts: Vec<String>,
    pub maybe_texts: Option<Vec<String>>,
    pub flags: Vec<bool>,
    pub smalls: Vec<i16>,
    pub ints: Vec<i32>,
    pub bigs: Vec<i64>,
    pub ratios: Vec<f32>,
    pub weights: Vec<f64>,
    pub days: Vec<NaiveDate>,
    pub local_ats: Vec<NaiveDateTime>,
    pub ats: Vec<DateTime<Utc>>,
    pub tiers: Vec<Tier>,
    pub ids: Vec<Uuid>,
}

/// Batch sizes: tiny ones, the power-of-two edges around them, and a
/// hundred.
const SIZES: [usize; 5] = [1, 2, 3, 7, 100];

/// More rows of [`Arrays`] than one multi-row `INSERT` may take (65,535
/// parameters / 17 columns = 3,855, so chunks of at most 2,048 rows): the
/// batch crosses chunk boundaries.
const MANY_ARRAYS: usize = 4_500;

/// A fresh database with the bulk models and two tenants; the `Db`
/// connects as the application role.
struct Bulk {
    /// Keeps the database alive (dropped when the test passes).
    _test_db: TestDb,
    db: Db,
    acme: TenantId,
    globex: TenantId,
}

async fn bulk_db() -> Bulk {
    let schema = Schema::new().model::<Scalars>().model::<Arrays>();
    let test_db = TestDb::new(&schema).await.expect("test database");
    let admin = test_db.superuser().await.expect("superuser connection");
    let (acme, globex) = (Uuid::now_v7(), Uuid::now_v7());
    admin
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme'), ($2, 'Globex', 'globex')",
            &[&acme, &globex],
        )
        .await
        .expect("seed tenants");
    let db = Db::from_pool(test_db.app_pool(2));
    Bulk {
        _test_db: test_db,
        db,
        acme: acme.into(),
        globex: globex.into(),
    }
}

/// A text that stresses array literals and encodings.
fn tricky_text(i: usize) -> String {
    match i % 6 {
        0 => String::new(),
        1 => "NULL".to_owned(),
        2 => format!("quote \" comma , brace {{}} backslash \\ {i}"),
        3 => format!("ünïcödé ✓ {i}"),
        4 => format!("  spaces  {i}  "),
        _ => format!("plain {i}"),
    }
}

fn timestamp(i: usize) -> DateTime<Utc> {
    // Microsecond precision, as PostgreSQL stores it.
    DateTime::from_timestamp_micros(1_700_000_000_000_000 + i as i64 * 1_234_567)
        .expect("a valid timestamp")
}

fn day(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date") + chrono::Days::new(i as u64)
}

fn tier(i: usize) -> Tier {
    [Tier::Free, Tier::ProPlus, Tier::Enterprise][i % 3]
}

fn scalars(i: usize) -> Scalars {
    let some = matches!(i % 2, 0);
    Scalars {
        id: Uuid::now_v7(),
        seq: i as i32,
        email: format!("user{i}@acme.test"),
        nick: some.then(|| format!("nick{i}")),
        body: tricky_text(i),
        note: some.then(|| tricky_text(i + 1)),
        flag: some,
        maybe_flag: match i % 3 {
            0 => None,
            r => Some(r == 1),
        },
        small: [i16::MIN, -1, 0, i16::MAX][i % 4],
        big: [i64::MIN, 0, i64::MAX, i as i64][i % 4],
        maybe_int: (!some).then_some(i as i32 * -7),
        ratio: i as f32 / 8.0,
        weight: -(i as f64) / 3.0,
        maybe_weight: some.then_some(f64::MAX),
        day: day(i),
        maybe_day: (!some).then(|| day(i * 2)),
        local_at: timestamp(i).naive_utc(),
        at: timestamp(i),
        maybe_at: some.then(|| timestamp(i + 7)),
        doc: serde_json::json!({"i": i, "text": tricky_text(i), "list": [1, null, "x"]}),
        maybe_doc: some.then(|| serde_json::json!([i])),
        shape: Json(Shape {
            sides: i as i32,
            name: tricky_text(i + 2),
        }),
        tier: tier(i),
        maybe_tier: some.then(|| tier(i + 1)),
        other: Uuid::new_v4(),
        maybe_other: (!some).then(Uuid::new_v4),
    }
}

fn arrays(i: usize) -> Arrays {
    // Lengths vary from row to row (0 to 3), which `unnest` would flatten.
    let n = i % 4;
    Arrays {
        id: Uuid::now_v7(),
        seq: i as i32,
        email: format!("user{i}@acme.test"),
        texts: (0..n).map(|k| tricky_text(i + k)).collect(),
        maybe_texts: matches!(i % 2, 0).then(|| vec![tricky_text(i + 3)]),
        flags: (0..n).map(|k| matches!((i + k) % 2, 0)).collect(),
        smalls: (0..n).map(|k| [i16::MIN, 0, i16::MAX][k % 3]).collect(),
        ints: (0..n).map(|k| (i * 10 + k) as i32).collect(),
        bigs: (0..n)
            .map(|k| [i64::MIN, i as i64, i64::MAX][k % 3])
            .collect(),
        ratios: (0..n).map(|k| (i + k) as f32 / 4.0).collect(),
        weights: (0..n).map(|k| -((i + k) as f64) / 3.0).collect(),
        days: (0..n).map(|k| day(i + k)).collect(),
        local_ats: (0..n).map(|k| timestamp(i + k).naive_utc()).collect(),
        ats: (0..n).map(|k| timestamp(i * 3 + k)).collect(),
        tiers: (0..n).map(|k| tier(i + k)).collect(),
        ids: (0..n).map(|_| Uuid::new_v4()).collect(),
    }
}

/// The tenant's rows of `M`, in `seq` order, as models.
async fn stored<M: Model + Clone>(
    db: &Db,
    tenant: TenantId,
    order: tenant_model::Order<M, i32>,
) -> Vec<M> {
    M::query()
        .order_by(order)
        .all(&mut db.tenant(tenant))
        .await
        .expect("read back")
        .into_iter()
        .map(tenant_model::Record::into_inner)
        .collect()
}

/// How many rows of `table` the tenant has (as the app role).
async fn rows_in(db: &Db, tenant: TenantId, table: &str) -> i64 {
    let mut tx = db.tenant(tenant).begin().await.expect("begin");
    let rows = tx
        .raw_query(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("count");
    tx.commit().await.expect("commit");
    rows[0].get(0)
}

/// The error a batch with a too-long value fails with: the same one a
/// single insert gives (SQLSTATE 22001), never a silent truncation.
fn assert_too_long(err: &Error) {
    assert_too_long_in(err, "email");
}

/// [`assert_too_long`] for the value of `column`, which the error names.
fn assert_too_long_in(err: &Error, column: &str) {
    assert_eq!(err.code(), Some("22001"), "value too long: {err:?}");
    assert!(
        matches!(err, Error::ValueTooLong { column: Some(c), .. } if c == column),
        "the typed error names the column: {err:?}"
    );
}

#[tokio::test]
async fn every_scalar_column_type_round_trips_in_batches_of_any_size() {
    let bulk = bulk_db().await;
    let mut expected = Vec::new();
    for (round, size) in SIZES.into_iter().chain([5_000]).enumerate() {
        let start = expected.len();
        let batch: Vec<Scalars> = (start..start + size).map(scalars).collect();
        let mut scope = bulk.db.tenant(bulk.acme);
        let n = if round % 2 == 0 {
            scope
                .insert_many(&batch)
                .await
                .expect("insert_many on a scope")
        } else {
            let mut tx = scope.begin().await.expect("begin");
            let n = tx.insert_many(&batch).await.expect("insert_many in a tx");
            tx.commit().await.expect("commit");
            n
        };
        assert_eq!(n, size as u64, "batch of {size}");
        expected.extend(batch);
        let read = stored(&bulk.db, bulk.acme, Scalars::SEQ.asc()).await;
        assert_eq!(read.len(), expected.len());
        for (got, want) in read.iter().zip(&expected) {
            assert_eq!(got, want, "row {} round-trips value by value", want.seq);
        }
    }
    assert_eq!(rows_in(&bulk.db, bulk.globex, "bulk_scalars").await, 0);
}

#[tokio::test]
async fn every_array_column_type_round_trips_in_batches_of_any_size() {
    let bulk = bulk_db().await;
    let mut expected = Vec::new();
    for (round, size) in SIZES.into_iter().chain([MANY_ARRAYS]).enumerate() {
        let start = expected.len();
        let batch: Vec<Arrays> = (start..start + size).map(arrays).collect();
        let mut scope = bulk.db.tenant(bulk.acme);
        let n = if round % 2 == 0 {
            scope
                .insert_many(&batch)
                .await
                .expect("insert_many on a scope")
        } else {
            let mut tx = scope.begin().await.expect("begin");
            let n = tx.insert_many(&batch).await.expect("insert_many in a tx");
            tx.commit().await.expect("commit");
            n
        };
        assert_eq!(n, size as u64, "batch of {size}");
        expected.extend(batch);
        let read = stored(&bulk.db, bulk.acme, Arrays::SEQ.asc()).await;
        assert_eq!(read.len(), expected.len());
        for (got, want) in read.iter().zip(&expected) {
            assert_eq!(got, want, "row {} round-trips value by value", want.seq);
        }
    }
}

#[tokio::test]
async fn a_too_long_value_fails_a_batch_as_it_fails_a_single_insert() {
    let bulk = bulk_db().await;
    let long = "x".repeat(290) + "@acme.test";

    let mut row = scalars(0);
    row.email = long.clone();
    let single = bulk
        .db
        .tenant(bulk.acme)
        .insert(row)
        .await
        .expect_err("too long");
    assert_too_long(&single);

    for size in SIZES {
        let mut batch: Vec<Scalars> = (0..size).map(scalars).collect();
        batch[size - 1].email = long.clone();
        let err = bulk
            .db
            .tenant(bulk.acme)
            .insert_many(&batch)
            .await
            .expect_err("a 300-character email does not fit varchar(255)");
        assert_too_long(&err);

        let mut batch: Vec<Arrays> = (0..size).map(arrays).collect();
        batch[size / 2].email = long.clone();
        let err = bulk
            .db
            .tenant(bulk.acme)
            .insert_many(&batch)
            .await
            .expect_err("a 300-character email does not fit varchar(255)");
        assert_too_long(&err);
    }
    // An Option<String> with max_length is checked as well.
    let mut batch: Vec<Scalars> = (0..3).map(scalars).collect();
    batch[2].nick = Some("n".repeat(21));
    let err = bulk
        .db
        .tenant(bulk.acme)
        .insert_many(&batch)
        .await
        .expect_err("21 characters do not fit varchar(20)");
    assert_too_long_in(&err, "nick");

    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_scalars").await, 0);
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_arrays").await, 0);
}

#[tokio::test]
async fn a_bad_row_in_the_last_chunk_stores_nothing_on_a_scope() {
    let bulk = bulk_db().await;
    let mut batch: Vec<Arrays> = (0..MANY_ARRAYS).map(arrays).collect();
    batch[MANY_ARRAYS - 1].email = "y".repeat(256);
    let err = bulk
        .db
        .tenant(bulk.acme)
        .insert_many(&batch)
        .await
        .expect_err("the last row is too long");
    assert_too_long(&err);
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_arrays").await, 0);

    // A duplicate key in the last chunk: a typed unique violation, and
    // nothing stored either.
    let mut batch: Vec<Arrays> = (0..7).map(arrays).collect();
    batch[6].id = batch[0].id;
    let err = bulk
        .db
        .tenant(bulk.acme)
        .insert_many(&batch)
        .await
        .expect_err("duplicate key");
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_arrays").await, 0);

    let mut batch: Vec<Scalars> = (0..100).map(scalars).collect();
    batch[99].id = batch[0].id;
    let err = bulk
        .db
        .tenant(bulk.acme)
        .insert_many(&batch)
        .await
        .expect_err("duplicate key");
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_scalars").await, 0);
}

#[tokio::test]
async fn a_bad_row_in_the_last_chunk_stores_nothing_in_a_transaction() {
    let bulk = bulk_db().await;
    let mut batch: Vec<Arrays> = (0..MANY_ARRAYS).map(arrays).collect();
    batch[MANY_ARRAYS - 1].email = "y".repeat(256);

    let mut tx = bulk.db.tenant(bulk.acme).begin().await.expect("begin");
    let err = tx
        .insert_many(&batch)
        .await
        .expect_err("the last row is too long");
    assert_too_long(&err);
    // The error aborted the caller's transaction: committing it stores
    // nothing, not even the chunks before the bad one.
    let _ = tx.commit().await;
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_arrays").await, 0);

    let mut tx = bulk.db.tenant(bulk.acme).begin().await.expect("begin");
    let mut batch: Vec<Scalars> = (0..7).map(scalars).collect();
    batch[6].email = "z".repeat(300);
    let err = tx.insert_many(&batch).await.expect_err("too long");
    assert_too_long(&err);
    drop(tx);
    assert_eq!(rows_in(&bulk.db, bulk.acme, "bulk_scalars").await, 0);
}
