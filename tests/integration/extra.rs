//! Models the tests use beside the SaaS example: every column type, array
//! columns (the bulk insert's other path) and a global table.

use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;

use crate::models::UserRole;

/// Typed JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Style {
    pub color: String,
    pub size: i32,
}

/// A note with one column of every kind.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(soft_delete, index(tags, using = "gin"))]
pub struct Note {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = crate::models::User, on_delete = set_null)]
    pub author_id: Option<Uuid>,
    #[tenant_model(max_length = 120)]
    pub title: String,
    pub body: Option<String>,
    pub pinned: bool,
    pub priority: i16,
    pub views: i32,
    pub bytes: i64,
    pub score: f32,
    pub weight: f64,
    pub due: Option<NaiveDate>,
    pub remind_at: Option<NaiveDateTime>,
    pub published_at: Option<DateTime<Utc>>,
    pub extra: serde_json::Value,
    pub style: Json<Style>,
    pub tags: Vec<String>,
    pub audience: Vec<UserRole>,
}

impl Note {
    pub fn new(title: &str) -> Note {
        Note {
            id: Uuid::now_v7(),
            author_id: None,
            title: title.to_owned(),
            body: None,
            pinned: false,
            priority: 1,
            views: 0,
            bytes: 0,
            score: 0.5,
            weight: 1.25,
            due: None,
            remind_at: None,
            published_at: None,
            extra: serde_json::json!({"k": "v"}),
            style: Json(Style {
                color: "red".into(),
                size: 3,
            }),
            tags: vec!["a".into(), "b".into()],
            audience: vec![UserRole::Member, UserRole::Guest],
        }
    }
}

/// Shared by all tenants.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(global, unique(code))]
pub struct Plan {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 40)]
    pub code: String,
    pub monthly_cents: i64,
}

/// A model that declares system columns itself: the derive maps them
/// instead of adding them, and the library still fills them.
#[derive(TenantModel, Debug, Clone, PartialEq)]
pub struct Event {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub created_at: DateTime<Utc>,
    #[tenant_model(max_length = 40)]
    pub kind: String,
}
