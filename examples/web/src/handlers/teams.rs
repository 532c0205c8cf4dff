//! `/teams` and `/teams/{id}/members`: teams under an organization, and
//! their members with a role.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;

use super::{body, id, ApiResult, Body, Id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::models::{Team, UserRole, UserTeamLink};
use crate::AppState;

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
