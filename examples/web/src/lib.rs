//! A JSON API over the SaaS model where every request's tenant comes from
//! a verified JWT (see `README.md`, "Web API example").
//!
//! [`app`] builds the router; `main.rs` finds a database and serves it.
//! Each handler opens the caller's tenant scope
//! ([`tenant_model::Db::for_context`]) from the token's claims, so the
//! tenant never comes from the URL or the body, and another tenant's ids
//! are simply not found. [`error`] maps the library's errors to statuses.
//!
//! ```no_run
//! # async fn serve(db: tenant_model::Db) -> std::io::Result<()> {
//! // `db` connects as the application's role (not a superuser or owner).
//! let app = web::app(db, web::auth::Keys::new(&web::auth::secret_from_env()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! `tests/http.rs` serves it the same way on a loopback port and drives it
//! over HTTP.

#![allow(unreachable_pub)]

pub mod auth;
pub mod error;
pub mod handlers;

/// The SaaS example's models, shared with `examples/saas`.
#[path = "../../saas/models.rs"]
pub mod models;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tenant_model::Db;

use crate::auth::Keys;
use crate::handlers as h;

/// What every handler gets: the database and the token keys.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database, connected as the application's role.
    pub db: Db,
    /// Verifies (and, for the dev server, signs) tokens.
    pub keys: Arc<Keys>,
}

/// The API's router over `db` (connected as the application role), with
/// tokens verified by `keys`.
pub fn app(db: Db, keys: Keys) -> Router {
    let state = AppState {
        db,
        keys: Arc::new(keys),
    };
    Router::new()
        .route("/users", get(h::list_users).post(h::create_user))
        .route(
            "/users/{id}",
            get(h::get_user).patch(h::patch_user).delete(h::delete_user),
        )
        .route(
            "/organizations",
            get(h::list_organizations).post(h::create_organization),
        )
        .route(
            "/organizations/{id}",
            get(h::get_organization)
                .patch(h::patch_organization)
                .delete(h::delete_organization),
        )
        .route("/teams", get(h::list_teams).post(h::create_team))
        .route(
            "/teams/{id}",
            get(h::get_team).patch(h::patch_team).delete(h::delete_team),
        )
        .route("/teams/{id}/members", post(h::add_member))
        .with_state(state)
}
