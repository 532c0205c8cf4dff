//! `/users`: list, create, read, change, soft-delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;

use super::{body, id, ApiResult, Body, Id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::models::User;
use crate::AppState;

/// A user as the API shows it.
#[derive(Debug, Serialize)]
pub struct UserOut {
    id: Uuid,
    email: String,
    full_name: String,
    is_active: bool,
    preferences: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl From<Record<User>> for UserOut {
    fn from(record: Record<User>) -> Self {
        let created_at = record.created_at();
        let user = record.into_inner();
        UserOut {
            id: user.id,
            email: user.email,
            full_name: user.full_name,
            is_active: user.is_active,
            preferences: user.preferences,
            created_at,
        }
    }
}

/// `POST /users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    full_name: String,
    #[serde(default)]
    preferences: Option<serde_json::Value>,
}

/// `PATCH /users/{id}`: the fields to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    email: Option<String>,
    full_name: Option<String>,
    is_active: Option<bool>,
    preferences: Option<serde_json::Value>,
}

/// `GET /users`: the tenant's live users.
pub async fn list_users(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Vec<UserOut>> {
    let users = User::query()
        .order_by(User::CREATED_AT.asc())
        .all(&mut s.db.for_context(&ctx))
        .await?;
    Ok(Json(users.into_iter().map(UserOut::from).collect()))
}

/// `POST /users`.
pub async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    new: Body<NewUser>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let new = body(new)?;
    let user = User {
        id: Uuid::now_v7(),
        email: new.email,
        full_name: new.full_name,
        hashed_password: None,
        is_active: true,
        is_superuser: false,
        metadata: serde_json::json!({}),
        preferences: new
            .preferences
            .unwrap_or_else(|| serde_json::json!({"theme": "light", "language": "en"})),
    };
    let stored = s.db.for_context(&ctx).insert(user).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// `GET /users/{id}`.
pub async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> ApiResult<UserOut> {
    let user = s.db.for_context(&ctx).find::<User>(id(key)?).await?;
    Ok(Json(user.into()))
}

/// `PATCH /users/{id}`.
pub async fn patch_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
    patch: Body<UserPatch>,
) -> ApiResult<UserOut> {
    let (key, patch) = (id(key)?, body(patch)?);
    let mut changes = Changes::new();
    if let Some(email) = patch.email {
        changes = changes.set(User::EMAIL, email);
    }
    if let Some(full_name) = patch.full_name {
        changes = changes.set(User::FULL_NAME, full_name);
    }
    if let Some(is_active) = patch.is_active {
        changes = changes.set(User::IS_ACTIVE, is_active);
    }
    if let Some(preferences) = patch.preferences {
        changes = changes.set(User::PREFERENCES, preferences);
    }
    let user = s.db.for_context(&ctx).update::<User>(key, changes).await?;
    Ok(Json(user.into()))
}

/// `DELETE /users/{id}`: a soft delete (the model declares it).
pub async fn delete_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> Result<StatusCode, ApiError> {
    s.db.for_context(&ctx).delete::<User>(id(key)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
