//! The handlers: each reads its input, opens the caller's tenant scope
//! (`db.for_context(..)`) and runs one library call in it. No handler
//! filters by tenant itself: the scope and row-level security do, so an id
//! from another tenant is simply not found.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::Path;
use axum::Json;
use uuid::Uuid;

use crate::error::ApiError;

mod organizations;
mod teams;
mod users;

pub use organizations::*;
pub use teams::*;
pub use users::*;

/// A handler's result: JSON, or an error response.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// A JSON body, with a rejection that answers 422.
pub(crate) type Body<T> = Result<Json<T>, JsonRejection>;
/// A UUID path parameter, with a rejection that answers 422.
pub(crate) type Id = Result<Path<Uuid>, PathRejection>;

pub(crate) fn body<T>(body: Body<T>) -> Result<T, ApiError> {
    Ok(body?.0)
}

pub(crate) fn id(id: Id) -> Result<Uuid, ApiError> {
    Ok(id?.0)
}
