//! The web example's command line.
//!
//! ```text
//! cargo run -p web                        # serve on 127.0.0.1:3000 (WEB_ADDR to change)
//! cargo run -p web -- token <tenant-id>   # print a dev token for a tenant (24 h)
//! ```
//!
//! `serve` finds PostgreSQL like the tests do (`DATABASE_URL`, a local
//! server, or a throwaway cluster from the local binaries), makes a fresh
//! database with the SaaS schema and login roles through the test harness
//! (`tenant_model::testing::TestDb`), connects as the application role,
//! creates the tenants named in `WEB_TENANTS` (comma-separated slugs,
//! default `acme,globex`) in an audited admin scope and prints a token for
//! each. The database is
//! dropped when the server stops (Ctrl-C): this is a development server.

use std::process::ExitCode;
use std::time::Duration;

use tenant_model::testing::TestDb;
use tenant_model::{Db, Error, Executor, Tenant, TenantId};
use web::auth::{secret_from_env, Claims, Keys};
use web::models;

/// How long printed tokens stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keys = Keys::new(&secret_from_env());
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => serve(keys).await,
        ["token", tenant] => print_token(&keys, tenant),
        _ => {
            eprintln!("usage: web [serve] | web token <tenant-id>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_token(keys: &Keys, tenant: &str) -> Result<(), Box<dyn std::error::Error>> {
    let tenant: uuid::Uuid = tenant
        .parse()
        .map_err(|e| format!("tenant id {tenant:?} is not a UUID: {e}"))?;
    let claims = Claims::for_tenant(TenantId::from(tenant), "dev", TOKEN_TTL);
    println!("{}", keys.sign(&claims)?);
    Ok(())
}

async fn serve(keys: Keys) -> Result<(), Box<dyn std::error::Error>> {
    let database = TestDb::new(&models::schema()).await?;
    let db = Db::from_pool(database.app_pool(16)).with_admin(database.admin_pool(2));
    let role = db.check_role().await?;
    println!(
        "database {} (connected as {}, not a superuser or owner)",
        database.name(),
        role.name
    );
    let slugs = std::env::var("WEB_TENANTS").unwrap_or_else(|_| "acme,globex".to_owned());
    for slug in slugs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let tenant = create_tenant(&db, &display_name(slug), slug).await?;
        let token = keys.sign(&Claims::for_tenant(tenant, "dev", TOKEN_TTL))?;
        let var: String = slug
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
                _ => '_',
            })
            .collect();
        println!("tenant {slug}: {tenant}\n  export {var}={token}");
    }
    let addr = std::env::var("WEB_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}  (Ctrl-C stops and drops the database)");
    println!("  curl -H \"Authorization: Bearer $ACME\" http://{addr}/users");
    axum::serve(listener, web::app(db, keys))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    database.close().await?;
    Ok(())
}

/// `acme` -> `Acme`.
fn display_name(slug: &str) -> String {
    let mut chars = slug.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Creates a tenant in an audited admin scope; returns its id.
async fn create_tenant(db: &Db, name: &str, slug: &str) -> Result<TenantId, Error> {
    let tenant = db
        .admin(format!("web example: create tenant {slug}"))?
        .run(async |tx| tx.insert(Tenant::new(name, slug)).await)
        .await?;
    Ok(tenant.model().id)
}
