//! One SQL file of a migration: its directives, and its statements when it
//! runs outside a transaction.
//!
//! A directive is a comment line `-- tenant-model: <directive>`:
//! `no-transaction` (only before the first statement) runs the file
//! outside a transaction, statement by statement; `destructive` marks the
//! statement after it as one that loses data (autogenerate writes it; the
//! runner accepts it anywhere). Any other directive is an error, so a typo
//! cannot silently run a file the wrong way.

use crate::sql::sql_fragment::split_statements;

/// The directive prefix.
pub const DIRECTIVE: &str = "-- tenant-model:";
/// Runs the file outside a transaction.
pub const NO_TRANSACTION: &str = "no-transaction";
/// Marks a destructive statement.
pub const DESTRUCTIVE: &str = "destructive";

/// A migration file, its directives read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Script<'s> {
    pub(crate) sql: &'s str,
    pub(crate) no_transaction: bool,
}

impl<'s> Script<'s> {
    /// Reads the directives of `sql`; an error says what is wrong.
    pub(crate) fn parse(sql: &'s str) -> Result<Script<'s>, String> {
        let mut no_transaction = false;
        let mut in_head = true;
        for line in sql.lines() {
            let line = line.trim();
            let comment = line.starts_with("--");
            if !line.is_empty() && !comment {
                in_head = false;
            }
            let Some(directive) = line
                .strip_prefix("--")
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix("tenant-model:"))
                .map(str::trim)
            else {
                continue;
            };
            match directive {
                NO_TRANSACTION if in_head => no_transaction = true,
                NO_TRANSACTION => {
                    return Err(format!(
                        "`{DIRECTIVE} {NO_TRANSACTION}` must come before the first statement"
                    ))
                }
                DESTRUCTIVE => {}
                other => {
                    return Err(format!(
                        "unknown directive `{DIRECTIVE} {other}` (known: {NO_TRANSACTION}, {DESTRUCTIVE})"
                    ))
                }
            }
        }
        Ok(Script {
            sql,
            no_transaction,
        })
    }

    /// The statements, split at `;` outside quotes and comments (what a
    /// `no-transaction` file runs one by one).
    pub(crate) fn statements(&self) -> Result<Vec<&'s str>, String> {
        split_statements(self.sql)
    }
}

#[cfg(test)]
mod tests {
    use super::Script;

    #[test]
    fn no_transaction_heads_the_file() {
        let s = Script::parse(
            "-- why\n\n-- tenant-model: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
        )
        .unwrap();
        assert!(s.no_transaction);
        assert!(
            !Script::parse("CREATE TABLE t (x int);")
                .unwrap()
                .no_transaction
        );
        let err = Script::parse("SELECT 1;\n-- tenant-model: no-transaction\n").unwrap_err();
        assert!(err.contains("before the first statement"), "{err}");
    }

    #[test]
    fn destructive_marks_are_accepted_and_typos_refused() {
        let s = Script::parse("-- tenant-model: destructive\nDROP TABLE t;\n-- tenant-model: destructive\nDROP TABLE u;").unwrap();
        assert!(!s.no_transaction);
        assert_eq!(
            s.statements().unwrap(),
            [
                "-- tenant-model: destructive\nDROP TABLE t",
                "-- tenant-model: destructive\nDROP TABLE u"
            ]
        );
        let err = Script::parse("-- tenant-model: no-transactions\nSELECT 1;").unwrap_err();
        assert!(
            err.contains("no-transactions") && err.contains("known"),
            "{err}"
        );
    }
}
