//! Typed change sets for updates: only the given columns change.

use std::marker::PhantomData;

use tokio_postgres::types::ToSql;

use crate::model::column::Column;
use crate::model::column_type::ColumnType;
use crate::model::{BoxedParam, Model, Param, Scope, SystemColumn};

/// The columns an update sets, with their new values.
///
/// Typed by model and column: `set(User::FULL_NAME, 42)` does not compile.
/// The update also sets `updated_at` to `statement_timestamp()` (see
/// [`Changes::columns`]); on plain PostgreSQL a trigger does it for raw
/// SQL too, on Citus (which refuses triggers) only the library's statements
/// do. System columns cannot be set here (`tenant_id` comes from the context, the rest from the
/// library's own operations).
///
/// ```
/// # use tenant_model::prelude::*;
/// # #[derive(TenantModel)]
/// # struct User { #[tenant_model(primary_key)] id: Uuid, full_name: String, is_active: bool }
/// use tenant_model::Changes;
/// let changes = Changes::<User>::new()
///     .set(User::FULL_NAME, "Ann Smith")
///     .set(User::IS_ACTIVE, false);
/// assert_eq!(changes.columns().collect::<Vec<_>>(), ["full_name", "is_active"]);
/// ```
pub struct Changes<M> {
    sets: Vec<(&'static str, BoxedParam<'static>)>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Default for Changes<M> {
    fn default() -> Self {
        Changes::new()
    }
}

impl<M> std::fmt::Debug for Changes<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are not shown: they may be personal data.
        f.debug_struct("Changes")
            .field(
                "columns",
                &self.sets.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<M: Model> Changes<M> {
    /// An empty change set.
    pub fn new() -> Self {
        Changes {
            sets: Vec::new(),
            _model: PhantomData,
        }
    }

    /// Sets `column` to `value` (a later `set` of the same column wins).
    pub fn set<T, V>(mut self, column: Column<M, T>, value: V) -> Self
    where
        T: ColumnType + ToSql + Sync + Send + 'static,
        V: Into<T>,
    {
        self.sets.retain(|(c, _)| *c != column.name());
        self.sets.push((column.name(), Box::new(value.into())));
        self
    }

    /// The columns set, in order.
    pub fn columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sets.iter().map(|(c, _)| *c)
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Refuses an empty change set and one that sets a system column.
    pub(crate) fn check(&self) -> Result<(), crate::error::Error> {
        if self.is_empty() {
            return Err(crate::error::Error::InvalidQuery(
                "an update needs at least one change".to_owned(),
            ));
        }
        if let Some(column) = self.system_column() {
            return Err(crate::error::Error::InvalidQuery(format!(
                "`{column}` is managed by tenant-model and cannot be set in an update"
            )));
        }
        Ok(())
    }

    /// The first system column in the set, if any (those are not settable).
    pub(crate) fn system_column(&self) -> Option<&'static str> {
        self.columns()
            .find(|c| SystemColumn::from_name(c).is_some())
    }

    /// `a = $n, b = $n+1, ..., updated_at = statement_timestamp()` and the
    /// values, numbering from `first`.
    ///
    /// `updated_at` is set by the statement itself, so it changes on every
    /// update without the trigger Citus refuses (where there is one, the
    /// trigger sets it again). Not on `tenants`: the application role may
    /// update only its `name` column there, and the plain-PostgreSQL
    /// trigger keeps that row's `updated_at`.
    pub(crate) fn assignments(&self, first: usize) -> (String, Vec<Param<'_>>) {
        let touch = (M::DEF.scope != Scope::Root).then(|| {
            format!(
                "{} = statement_timestamp()",
                crate::sql::sql_text::ident(SystemColumn::UpdatedAt.name())
            )
        });
        let sql = self
            .sets
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{} = ${}", crate::sql::sql_text::ident(c), first + i))
            .chain(touch)
            .collect::<Vec<_>>()
            .join(", ");
        let params = self.sets.iter().map(|(_, v)| &**v as Param<'_>).collect();
        (sql, params)
    }
}
