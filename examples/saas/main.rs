//! The multi-tenant SaaS example: the data model of the standard.
//!
//! ```text
//! cargo run --example saas -- print-schema   # the full DDL, RLS included
//! ```

#![allow(unreachable_pub)]
mod models;

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        Some("print-schema") => {
            print!("{}", models::schema().create_sql());
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo run --example saas -- print-schema");
            ExitCode::FAILURE
        }
    }
}
