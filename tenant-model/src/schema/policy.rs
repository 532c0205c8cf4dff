//! Row-level security policies as data: what the DDL creates, and what
//! [`crate::Db::audit`] compares the live catalog with.

use std::fmt;

use crate::sql::sql_text::{ident, ident_list};

/// The command a policy applies to (`FOR ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyCommand {
    /// `FOR ALL` (the default).
    All,
    /// `FOR SELECT`.
    Select,
    /// `FOR INSERT`.
    Insert,
    /// `FOR UPDATE`.
    Update,
    /// `FOR DELETE`.
    Delete,
}

impl PolicyCommand {
    /// The SQL key word (`ALL`, `SELECT`, ...), as `pg_policies.cmd` shows it.
    pub fn as_sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }

    /// The command for a `pg_policy.polcmd` code (`*`, `r`, `a`, `w`, `d`).
    pub fn from_code(code: &str) -> Option<PolicyCommand> {
        Some(match code {
            "*" => PolicyCommand::All,
            "r" => PolicyCommand::Select,
            "a" => PolicyCommand::Insert,
            "w" => PolicyCommand::Update,
            "d" => PolicyCommand::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for PolicyCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// One permissive row-level security policy the DDL creates.
///
/// ```
/// use tenant_model::prelude::*;
/// use tenant_model::schema::PolicyCommand;
///
/// let schema = Schema::new();
/// let policies = schema.policies();
/// let select = policies.iter().find(|p| p.name == "tenants_own_row_select").unwrap();
/// assert_eq!(select.table, "tenants");
/// assert_eq!(select.command, PolicyCommand::Select);
/// assert!(select.roles.is_empty()); // PUBLIC
/// assert!(select.create_sql().starts_with("CREATE POLICY tenants_own_row_select ON tenants FOR SELECT"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The table it is on.
    pub table: &'static str,
    /// The policy's name.
    pub name: String,
    /// The command it applies to.
    pub command: PolicyCommand,
    /// The roles it applies to (`TO ...`); empty means `PUBLIC`.
    pub roles: Vec<String>,
    /// The `USING` expression, as written in the DDL (without the outer
    /// parentheses `USING (...)` adds).
    pub using: Option<String>,
    /// The `WITH CHECK` expression, as written in the DDL.
    pub with_check: Option<String>,
}

impl Policy {
    /// The `CREATE POLICY` statement, ending in `;` and a newline.
    pub fn create_sql(&self) -> String {
        self.create_sql_on(&ident(self.table), &ident(&self.name), true)
    }

    /// `CREATE POLICY` under another name on another table, with or
    /// without its `TO` clause (the audit recreates the expressions on a
    /// scratch table to have the server normalize them).
    pub(crate) fn create_sql_on(&self, table: &str, name: &str, with_roles: bool) -> String {
        let mut sql = format!("CREATE POLICY {name} ON {table}");
        if self.command != PolicyCommand::All {
            sql += &format!(" FOR {}", self.command);
        }
        if with_roles && !self.roles.is_empty() {
            sql += &format!(" TO {}", ident_list(self.roles.iter().map(String::as_str)));
        }
        if let Some(using) = &self.using {
            sql += &format!("\n    USING ({using})");
        }
        if let Some(check) = &self.with_check {
            sql += &format!("\n    WITH CHECK ({check})");
        }
        sql + ";\n"
    }
}
