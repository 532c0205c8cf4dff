//! The multi-tenant SaaS example: the data model of the standard.
//!
//! ```text
//! cargo run --example saas -- print-schema   # the full DDL, RLS included
//! DATABASE_URL=postgres://owner@localhost/saas cargo run --example saas -- migrate up
//! DATABASE_URL=postgres://owner@localhost/saas cargo run --example saas -- migrate status
//! DATABASE_URL=postgres://my_app:...@localhost/saas cargo run --example saas -- audit
//! ```
//!
//! `migrate` (`up`, `down`, `status`, `baseline`, `generate`) and
//! `print-schema` are `tenant_model::cli`, two lines below; the migrations
//! (`examples/saas/migrations/`) are compiled into the binary. They run as
//! the schema owner (`DATABASE_URL`).
//!
//! `audit` connects as the application's login role (`DATABASE_URL`; a
//! superuser or the tables' owner is refused) and checks the live database
//! against the model: row-level security, policies, grants, views, roles.

#![allow(unreachable_pub)]
mod models;

use std::process::ExitCode;

use tenant_model::{Db, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("audit") {
        return match audit().await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let migrations = tenant_model::embed_migrations!("examples/saas/migrations");
    tenant_model::cli::run(&models::schema(), &migrations).await
}

/// Prints the audit of `DATABASE_URL` against the model; whether it is clean.
async fn audit() -> Result<bool, Error> {
    let db = Db::connect_default().await?;
    let report = db.audit(&models::schema()).await?;
    println!("{report}");
    Ok(report.is_ok())
}
