//! The handlers: each reads its input, opens the caller's tenant scope
//! (`db.for_context(..)`) and runs one library call in it. No handler
//! filters by tenant itself: the scope and row-level security do, so an id
//! from another tenant is simply not found.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::models::{Organization, Team, User, UserRole, UserTeamLink};
use crate::AppState;

/// A handler's result: JSON, or an error response.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// A JSON body, with a rejection that answers 422.
type Body<T> = Result<Json<T>, JsonRejection>;
/// A UUID path parameter, with a rejection that answers 422.
type Id = Result<Path<Uuid>, PathRejection>;

fn body<T>(body: Body<T>) -> Result<T, ApiError> {
    Ok(body?.0)
}

fn id(id: Id) -> Result<Uuid, ApiError> {
    Ok(id?.0)
}

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

/// An organization as the API shows it.
#[derive(Debug, Serialize)]
pub struct OrganizationOut {
    id: Uuid,
    name: String,
}

impl From<Record<Organization>> for OrganizationOut {
    fn from(record: Record<Organization>) -> Self {
        let org = record.into_inner();
        OrganizationOut {
            id: org.id,
            name: org.name,
        }
    }
}

/// `POST /organizations`, and `PATCH /organizations/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationIn {
    name: String,
}

/// `GET /organizations`.
pub async fn list_organizations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Vec<OrganizationOut>> {
    let orgs = Organization::query()
        .order_by(Organization::CREATED_AT.asc())
        .all(&mut s.db.for_context(&ctx))
        .await?;
    Ok(Json(orgs.into_iter().map(OrganizationOut::from).collect()))
}

/// `POST /organizations`.
pub async fn create_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    new: Body<OrganizationIn>,
) -> Result<(StatusCode, Json<OrganizationOut>), ApiError> {
    let org = Organization {
        id: Uuid::now_v7(),
        name: body(new)?.name,
    };
    let stored = s.db.for_context(&ctx).insert(org).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// `GET /organizations/{id}`.
pub async fn get_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> ApiResult<OrganizationOut> {
    let org =
        s.db.for_context(&ctx)
            .find::<Organization>(id(key)?)
            .await?;
    Ok(Json(org.into()))
}

/// `PATCH /organizations/{id}`.
pub async fn patch_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
    patch: Body<OrganizationIn>,
) -> ApiResult<OrganizationOut> {
    let (key, patch) = (id(key)?, body(patch)?);
    let changes = Changes::new().set(Organization::NAME, patch.name);
    let org =
        s.db.for_context(&ctx)
            .update::<Organization>(key, changes)
            .await?;
    Ok(Json(org.into()))
}

/// `DELETE /organizations/{id}` (its teams go with it: `on_delete = cascade`).
pub async fn delete_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> Result<StatusCode, ApiError> {
    s.db.for_context(&ctx)
        .delete::<Organization>(id(key)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team as the API shows it.
#[derive(Debug, Serialize)]
pub struct TeamOut {
    id: Uuid,
    organization_id: Uuid,
    name: String,
}

impl From<Record<Team>> for TeamOut {
    fn from(record: Record<Team>) -> Self {
        let team = record.into_inner();
        TeamOut {
            id: team.id,
            organization_id: team.organization_id,
            name: team.name,
        }
    }
}

/// `POST /teams`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    organization_id: Uuid,
    name: String,
}

/// `PATCH /teams/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    name: String,
}

/// `GET /teams`.
pub async fn list_teams(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Vec<TeamOut>> {
    let teams = Team::query()
        .order_by(Team::CREATED_AT.asc())
        .all(&mut s.db.for_context(&ctx))
        .await?;
    Ok(Json(teams.into_iter().map(TeamOut::from).collect()))
}

/// `POST /teams`. An `organization_id` the tenant cannot see (another
/// tenant's, or none) fails the composite foreign key `(tenant_id,
/// organization_id)`: 403, the same answer for both, so it tells nothing
/// about other tenants.
pub async fn create_team(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    new: Body<NewTeam>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    let new = body(new)?;
    let team = Team {
        id: Uuid::now_v7(),
        organization_id: new.organization_id,
        name: new.name,
    };
    let stored = s.db.for_context(&ctx).insert(team).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// `GET /teams/{id}`.
pub async fn get_team(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> ApiResult<TeamOut> {
    let team = s.db.for_context(&ctx).find::<Team>(id(key)?).await?;
    Ok(Json(team.into()))
}

/// `PATCH /teams/{id}`.
pub async fn patch_team(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
    patch: Body<TeamPatch>,
) -> ApiResult<TeamOut> {
    let (key, patch) = (id(key)?, body(patch)?);
    let changes = Changes::new().set(Team::NAME, patch.name);
    let team = s.db.for_context(&ctx).update::<Team>(key, changes).await?;
    Ok(Json(team.into()))
}

/// `DELETE /teams/{id}`.
pub async fn delete_team(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
) -> Result<StatusCode, ApiError> {
    s.db.for_context(&ctx).delete::<Team>(id(key)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /teams/{id}/members`: `{"user_id": "...", "role": "admin"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    user_id: Uuid,
    #[serde(default)]
    role: Option<String>,
}

/// A membership as the API shows it.
#[derive(Debug, Serialize)]
pub struct MemberOut {
    team_id: Uuid,
    user_id: Uuid,
    role: &'static str,
}

/// The role named `name` (`owner`, `admin`, `member`, `guest`).
fn role(name: &str) -> Result<UserRole, ApiError> {
    match name {
        "owner" => Ok(UserRole::Owner),
        "admin" => Ok(UserRole::Admin),
        "member" => Ok(UserRole::Member),
        "guest" => Ok(UserRole::Guest),
        other => Err(ApiError::BadInput(format!(
            "unknown role {other:?}: expected owner, admin, member or guest"
        ))),
    }
}

fn role_name(role: UserRole) -> &'static str {
    match role {
        UserRole::Owner => "owner",
        UserRole::Admin => "admin",
        UserRole::Member => "member",
        UserRole::Guest => "guest",
    }
}

/// `POST /teams/{id}/members`: adds a user to a team with a role (default
/// `member`). A team or user the tenant cannot see fails the composite
/// foreign keys: 403. Adding the same user twice: 409.
pub async fn add_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    key: Id,
    new: Body<NewMember>,
) -> Result<(StatusCode, Json<MemberOut>), ApiError> {
    let (team_id, new) = (id(key)?, body(new)?);
    let role = role(new.role.as_deref().unwrap_or("member"))?;
    let link = UserTeamLink {
        user_id: new.user_id,
        team_id,
        role,
    };
    let mut scope = s.db.for_context(&ctx);
    let stored = Team::MEMBERS
        .attach(&mut scope, team_id, new.user_id, link)
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(MemberOut {
            team_id: stored.team_id,
            user_id: stored.user_id,
            role: role_name(stored.role),
        }),
    ))
}
