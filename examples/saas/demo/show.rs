//! Small display helpers: readable text instead of `Debug` output.

use tenant_model::testing::{Origin, Server};
use tenant_model::{Error, PgEnum, Record};

use crate::models::User;

/// Where the server came from, in words.
pub fn origin(server: &Server) -> String {
    match server.origin() {
        Origin::DatabaseUrl => format!("DATABASE_URL ({})", server.conninfo()),
        Origin::Localhost => format!("the local server ({})", server.conninfo()),
        Origin::Cluster => match server.cluster() {
            Some(cluster) => format!(
                "a throwaway cluster in {}, stopped at exit",
                cluster.dir().display()
            ),
            None => "a throwaway cluster, stopped at exit".to_owned(),
        },
        _ => server.conninfo(),
    }
}

/// `a, b, c`, or `none`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The users' emails, `a@x, b@x`, or `none`.
pub fn emails(users: &[Record<User>]) -> String {
    list(&users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>())
}

/// `1 user`, `3 users`.
pub fn count(n: i64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// An enum value as the database stores it (`owner`, `member`).
pub fn label(value: &impl PgEnum) -> &'static str {
    value.label()
}

/// `Error::Variant: message`.
pub fn error(e: &Error) -> String {
    let variant = match e {
        Error::NotFound { .. } => "NotFound",
        Error::UniqueViolation { .. } => "UniqueViolation",
        Error::ForeignKeyViolation { .. } => "ForeignKeyViolation",
        Error::CheckViolation { .. } => "CheckViolation",
        Error::RowSecurity { .. } => "RowSecurity",
        Error::PermissionDenied { .. } => "PermissionDenied",
        Error::NoTenantContext => "NoTenantContext",
        _ => "(another variant)",
    };
    format!("Error::{variant}: {e}")
}
