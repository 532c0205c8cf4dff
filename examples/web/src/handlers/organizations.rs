//! `/organizations`: list, create, read, rename, delete (with their teams).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;

use super::{body, id, ApiResult, Body, Id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::models::Organization;
use crate::AppState;

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
