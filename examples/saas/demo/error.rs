//! What can stop the demo.

use std::fmt;

/// A failed step of the demo.
#[derive(Debug)]
pub enum DemoError {
    /// The library (or the database behind it) reported an error.
    Db(tenant_model::Error),
    /// A step did not turn out as the demo shows it should.
    Unexpected(String),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Db(e) => write!(f, "{e}"),
            DemoError::Unexpected(what) => write!(f, "unexpected: {what}"),
        }
    }
}

impl std::error::Error for DemoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DemoError::Db(e) => Some(e),
            DemoError::Unexpected(_) => None,
        }
    }
}

impl From<tenant_model::Error> for DemoError {
    fn from(e: tenant_model::Error) -> Self {
        DemoError::Db(e)
    }
}

impl From<tokio_postgres::Error> for DemoError {
    fn from(e: tokio_postgres::Error) -> Self {
        DemoError::Db(e.into())
    }
}
