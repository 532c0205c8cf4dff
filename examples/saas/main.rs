//! The multi-tenant SaaS example: the data model of the standard, and the
//! project's main demo.
//!
//! ```text
//! cargo run --example saas                   # the demo: the model end to end
//! cargo run --example saas -- print-schema   # the full DDL, RLS included
//! cargo run --example saas -- print-schema --citus   # the same for a Citus cluster
//! DATABASE_URL=postgres://owner@localhost/saas cargo run --example saas -- migrate up
//! DATABASE_URL=postgres://owner@localhost/saas cargo run --example saas -- migrate status
//! DATABASE_URL=postgres://my_app:...@localhost/saas cargo run --example saas -- audit
//! DATABASE_URL=postgres://my_app:...@coordinator/saas cargo run --example saas -- audit --citus
//! ```
//!
//! With no arguments it runs the demo (`demo/`): it finds PostgreSQL as the
//! test harness does (`DATABASE_URL`; else the server at 127.0.0.1:5432;
//! else a throwaway cluster from the local PostgreSQL binaries, stopped at
//! exit; `TENANT_MODEL_SERVER=cluster` goes straight to the cluster),
//! creates a database `tenant_model_demo_<8 hex>` for the run, migrates it
//! with `examples/saas/migrations/` as the owner, creates login roles for
//! the application and the admin, connects as the application role, audits
//! the deployment, and walks through tenants, isolation, JSONB, soft
//! delete, eager loading, an audited admin count and a rejected
//! cross-tenant write. It drops the database and roles before exiting, so
//! every run starts fresh and prints the same (but for the database's
//! name). For the demo, `DATABASE_URL` names a server and a user that may
//! create databases and roles (a superuser, or `CREATEDB` and
//! `CREATEROLE`), which becomes the owner of the demo's tables; its
//! database part is not used.
//!
//! `migrate` (`up`, `down`, `status`, `baseline`, `generate`) and
//! `print-schema` are `tenant_model::cli`; the migrations
//! (`examples/saas/migrations/`) are compiled into the binary. They run as
//! the schema owner, on the database `DATABASE_URL` names.
//!
//! `audit` connects as the application's login role (`DATABASE_URL`; a
//! superuser or the tables' owner is refused) and checks the live database
//! against the model: row-level security, policies, grants, views, roles.

#![allow(unreachable_pub)]
mod demo;
mod models;

use std::process::ExitCode;

use tenant_model::{Db, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => demo::main().await,
        Some("audit") => match audit(std::env::args().nth(2).as_deref() == Some("--citus")).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Some(command) => {
            if matches!(command, "-h" | "--help" | "help") {
                println!(
                    "With no command: the demo, the SaaS model end to end on a database \
                     made for the run.\n"
                );
            }
            let migrations = tenant_model::embed_migrations!("examples/saas/migrations");
            tenant_model::cli::run(&models::schema(), &migrations).await
        }
    }
}

/// Prints the audit of `DATABASE_URL` against the model (as emitted for
/// Citus with `--citus`); whether it is clean.
async fn audit(citus: bool) -> Result<bool, Error> {
    let db = Db::connect_default().await?;
    let schema = if citus {
        models::schema().target(tenant_model::Target::Citus)
    } else {
        models::schema()
    };
    let report = db.audit(&schema).await?;
    println!("{report}");
    Ok(report.is_ok())
}
