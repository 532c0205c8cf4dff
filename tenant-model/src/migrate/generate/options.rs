//! What the user tells autogenerate: whether data may be lost, and which
//! columns and tables were renamed rather than replaced.

use std::fmt;
use std::str::FromStr;

use super::error::GenerateError;

/// Options of [`generate`](crate::migrate::generate).
///
/// ```
/// use tenant_model::migrate::{GenerateOptions, Rename};
///
/// let options = GenerateOptions {
///     allow_destructive: false,
///     renames: vec!["users.name=full_name".parse()?],
/// };
/// assert_eq!(options.renames[0], Rename::column("users", "name", "full_name"));
/// # Ok::<(), tenant_model::migrate::GenerateError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Generate destructive steps (dropping a table, a column or an enum
    /// value, narrowing a type). Off: [`generate`](crate::migrate::generate)
    /// returns [`GenerateError::Destructive`] listing them instead.
    pub allow_destructive: bool,
    /// Columns (and tables) that were renamed: without one, a renamed
    /// column looks like a dropped column and a new one. They apply in the
    /// order given (a table rename before the renames of its columns,
    /// which name the table by its new name).
    pub renames: Vec<Rename>,
}

/// A column or table the models renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// Column `from` of `table` is now `to`. `table` is the table's name
    /// in the models (after any table rename).
    Column {
        /// The table.
        table: String,
        /// The live column's name.
        from: String,
        /// The models' name for it.
        to: String,
    },
    /// Table `from` is now `to`.
    Table {
        /// The live table's name.
        from: String,
        /// The models' name for it.
        to: String,
    },
}

impl Rename {
    /// Column `from` of `table` is now `to`.
    pub fn column(
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Rename {
        Rename::Column {
            table: table.into(),
            from: from.into(),
            to: to.into(),
        }
    }

    /// Table `from` is now `to`.
    pub fn table(from: impl Into<String>, to: impl Into<String>) -> Rename {
        Rename::Table {
            from: from.into(),
            to: to.into(),
        }
    }
}

/// `table.old=new` for a column, `old=new` for a table.
impl fmt::Display for Rename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rename::Column { table, from, to } => write!(f, "{table}.{from}={to}"),
            Rename::Table { from, to } => write!(f, "{from}={to}"),
        }
    }
}

/// Parses `table.old=new` (a column) or `old=new` (a table), as the CLI's
/// `--rename` takes them.
impl FromStr for Rename {
    type Err = GenerateError;

    fn from_str(s: &str) -> Result<Rename, GenerateError> {
        let invalid = || GenerateError::Rename {
            rename: s.to_owned(),
            reason: "write table.old_column=new_column, or old_table=new_table".to_owned(),
        };
        let (left, to) = s.split_once('=').ok_or_else(invalid)?;
        let to = to.trim();
        let rename = match left.trim().split_once('.') {
            Some((table, from)) => Rename::column(table.trim(), from.trim(), to),
            None => Rename::table(left.trim(), to),
        };
        let empty = match &rename {
            Rename::Column { table, from, to } => [table, from, to].iter().any(|p| p.is_empty()),
            Rename::Table { from, to } => from.is_empty() || to.is_empty(),
        };
        if empty {
            return Err(invalid());
        }
        Ok(rename)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_columns_and_tables() {
        assert_eq!(
            "users.name=full_name".parse::<Rename>().ok(),
            Some(Rename::column("users", "name", "full_name"))
        );
        assert_eq!(
            "people=users".parse::<Rename>().ok(),
            Some(Rename::table("people", "users"))
        );
        assert!("users.name".parse::<Rename>().is_err());
        assert!("users.=x".parse::<Rename>().is_err());
        assert_eq!(Rename::column("t", "a", "b").to_string(), "t.a=b");
    }
}
