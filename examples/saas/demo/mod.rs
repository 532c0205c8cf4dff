//! `cargo run --example saas` with no arguments: the SaaS model end to end,
//! on a database made for the run and dropped at exit.
//!
//! The server is the one the test harness finds
//! ([`tenant_model::testing::server`]): `DATABASE_URL` when set, else
//! PostgreSQL at 127.0.0.1:5432, else a throwaway cluster started from the
//! local PostgreSQL binaries (`TENANT_MODEL_SERVER=cluster` goes straight
//! to the cluster). Its user must be able to create databases and roles.
//!
//! Each run creates a fresh database `tenant_model_demo_<8 hex>`, so the
//! output is the same every run (only that name changes), and drops it,
//! with the run's two login roles, before exiting — also when a step fails.
//! A run killed midway (Ctrl-C) leaves them: `DROP DATABASE
//! tenant_model_demo_... WITH (FORCE); DROP ROLE tenant_model_demo_..._app,
//! tenant_model_demo_..._admin;` (a throwaway cluster goes away whole).

mod database;
mod error;
mod output;
mod seed;
mod show;
mod walkthrough;

use std::process::ExitCode;

use tenant_model::testing::Server;

pub use database::DemoDatabase;
pub use error::DemoError;
pub use output::Output;

/// Runs the demo on the harness's server, printing as it goes.
pub async fn main() -> ExitCode {
    let mut out = Output::printing();
    let outcome = match tenant_model::testing::server().await {
        Ok(server) => run(server, &mut out).await,
        Err(e) => Err(e.into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole demo on `server`: makes and migrates a database, walks through
/// the model as the application and admin login roles, drops the database.
pub async fn run(server: &Server, out: &mut Output) -> Result<(), DemoError> {
    out.line("tenant-model: the multi-tenant SaaS model, end to end");
    out.line(format!("PostgreSQL: {}", show::origin(server)));
    let database = DemoDatabase::create(server, out).await?;
    let walked = walkthrough::run(&database.db(), out).await;
    let dropped = database.drop().await;
    walked?;
    dropped?;
    out.line("");
    out.line("done: the demo database and its login roles are dropped");
    Ok(())
}
