//! Errors as HTTP responses: each failure gets one status and a JSON body
//! `{"error": "..."}`.
//!
//! | status | when |
//! | --- | --- |
//! | 401 | missing, malformed, badly signed or expired token; claims without a valid `tenant_id` |
//! | 403 | the database refused the write: a foreign key to a row the tenant cannot see (another tenant's, or none at all: the two look the same), row-level security, a missing privilege |
//! | 404 | no such row **in the caller's tenant** (another tenant's row is not found either) |
//! | 409 | a unique constraint (e.g. a second user with the same email in one tenant) |
//! | 422 | a body that is not JSON or has the wrong fields, an id that is not a UUID, an empty change set, a value too long or failing a check |
//! | 503 | the database is unavailable: no connection within the pool's timeouts, a refused or lost connection |
//! | 500 | anything else (the details go to the server's log, not to the client) |

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request carries no valid token (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The request's body or path cannot be read (422).
    #[error("bad input: {0}")]
    BadInput(String),
    /// The database said no, or could not be reached.
    #[error(transparent)]
    Db(#[from] tenant_model::Error),
}

/// The status for a library error (see the module's table).
pub fn status_of(err: &tenant_model::Error) -> StatusCode {
    use tenant_model::Error as E;
    match err {
        E::NotFound { .. } => StatusCode::NOT_FOUND,
        E::UniqueViolation { .. } => StatusCode::CONFLICT,
        E::ForeignKeyViolation { .. } | E::RowSecurity { .. } | E::PermissionDenied { .. } => {
            StatusCode::FORBIDDEN
        }
        E::InvalidQuery(_) | E::CheckViolation { .. } | E::ValueTooLong { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        E::NoTenantContext | E::InvalidContext(_) => StatusCode::UNAUTHORIZED,
        E::Pool(_)
        | E::PoolTimeout(_)
        | E::ConnectionLost { .. }
        | E::AdminShutdown { .. }
        | E::NoDatabase(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// The response status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Db(e) => status_of(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match status {
            // Details of a server fault stay in the log.
            StatusCode::INTERNAL_SERVER_ERROR => {
                eprintln!("internal error: {self}");
                "internal error".to_owned()
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                eprintln!("database unavailable: {self}");
                "database unavailable, try again later".to_owned()
            }
            _ => self.to_string(),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadInput(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadInput(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_get_their_status() {
        use tenant_model::Error as E;
        let cases = [
            (E::NotFound { table: "users" }, 404),
            (E::InvalidQuery("empty".into()), 422),
            (E::NoTenantContext, 401),
            (E::PoolTimeout(tenant_model::TimeoutKind::Create), 503),
            (E::NoDatabase("down".into()), 503),
            (E::TransactionClosed, 500),
        ];
        for (err, status) in cases {
            assert_eq!(status_of(&err).as_u16(), status, "{err}");
        }
    }
}
