//! The multi-tenant SaaS example: the data model of the standard.
//!
//! ```text
//! cargo run --example saas -- print-schema   # the full DDL, RLS included
//! DATABASE_URL=postgres://my_app:...@localhost/saas cargo run --example saas -- audit
//! ```
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
    let command = std::env::args().nth(1);
    match command.as_deref() {
        Some("print-schema") => {
            print!("{}", models::schema().create_sql());
            ExitCode::SUCCESS
        }
        Some("audit") => match audit().await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo run --example saas -- print-schema | audit");
            ExitCode::FAILURE
        }
    }
}

/// Prints the audit of `DATABASE_URL` against the model; whether it is clean.
async fn audit() -> Result<bool, Error> {
    let db = Db::connect_default().await?;
    let report = db.audit(&models::schema()).await?;
    println!("{report}");
    Ok(report.is_ok())
}
