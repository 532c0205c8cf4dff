//! Integration tests against a real PostgreSQL, one database per test
//! (see `tenant_model::testing`). Isolation is always checked through the
//! application role: superusers and table owners bypass row-level security.

#![allow(unreachable_pub)]
#[path = "../../examples/saas/models.rs"]
#[allow(dead_code)]
mod models;

mod audit;
mod bulk;
mod citus;
mod context_leak;
mod crud;
mod ergonomics;
mod errors;
mod extra;
mod isolation;
mod keys;
mod migrate_generate;
mod migrate_runner;
mod migrate_support;
mod observability;
mod pooler;
mod property;
mod query;
mod readme;
mod relations;
mod relations_soft_delete;
mod saas_demo;
mod schema;
mod session_state;
mod support;
