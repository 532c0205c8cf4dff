//! `NewRow`: what is required and what is filled.
use tenant_model::prelude::*;

#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
pub enum Plan {
    Free,
    Pro,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
pub struct Account {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub email: String,
    #[tenant_model(default = true)]
    pub is_active: bool,
    #[tenant_model(default = 3)]
    pub seats: i32,
    #[tenant_model(default = 1.5)]
    pub ratio: f64,
    #[tenant_model(default = "hello")]
    pub greeting: String,
    #[tenant_model(default = "pro")]
    pub plan: Plan,
    #[tenant_model(default = r#"{"a": 1}"#)]
    pub settings: serde_json::Value,
    #[tenant_model(default = "guest")]
    pub label: Option<String>,
    pub note: Option<String>,
    // No Rust value for these defaults: required.
    #[tenant_model(default_sql = "now()")]
    pub joined: DateTime<Utc>,
    #[tenant_model(default = "{}")]
    pub tags: Vec<String>,
}

/// Nothing required but the key's parts.
#[derive(TenantModel, Debug, Clone, PartialEq)]
pub struct Link {
    #[tenant_model(primary_key)]
    pub a: Uuid,
    #[tenant_model(primary_key)]
    pub b: Uuid,
}

/// Nothing required at all.
#[derive(TenantModel, Debug, Clone, PartialEq)]
pub struct Counter {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(default = 0)]
    pub n: i64,
}

/// One required field: its type, not a one-tuple.
#[derive(TenantModel, Debug, Clone, PartialEq)]
pub struct Tag {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub name: String,
}

fn main() {
    let now = chrono::Utc::now();
    let a = Account::with_defaults(("a@x.test".to_owned(), now, vec![]));
    assert!(a.is_active);
    assert_eq!(a.seats, 3);
    assert_eq!(a.ratio, 1.5);
    assert_eq!(a.greeting, "hello");
    assert_eq!(a.plan, Plan::Pro);
    assert_eq!(a.settings, serde_json::json!({"a": 1}));
    assert_eq!(a.label.as_deref(), Some("guest"));
    assert_eq!(a.note, None);
    assert_eq!(a.joined, now);
    let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(Link::with_defaults((x, y)), Link { a: x, b: y });
    assert_eq!(Counter::with_defaults(()).n, 0);
    assert_eq!(Tag::with_defaults("t".to_owned()).name, "t");
}
