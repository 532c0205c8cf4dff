//! The SQL text of one model, built once per process from its [`ModelDef`].

use crate::model::{ModelDef, SystemColumn};
use crate::sql_text::{ident, ident_list};

/// The statements and column layout the runtime uses for one model.
///
/// Built once per process (the derive keeps it in a `static`), so hot paths
/// never format SQL.
#[derive(Debug)]
pub struct ModelSql {
    /// The table, quoted as needed.
    pub table: String,
    /// The select list: the struct's fields in order, then the system
    /// columns the struct does not declare.
    pub select_list: String,
    /// Where each system column sits in the select list.
    system_positions: [Option<usize>; 6],
}

impl ModelSql {
    /// Builds the SQL for `def`.
    pub fn new(def: &'static ModelDef) -> ModelSql {
        let columns = select_columns(def);
        let mut system_positions = [None; 6];
        for (slot, column) in system_positions.iter_mut().zip(SystemColumn::ALL) {
            *slot = columns.iter().position(|c| *c == column.name());
        }
        ModelSql {
            table: ident(def.table).into_owned(),
            select_list: ident_list(columns.iter().copied()),
            system_positions,
        }
    }

    /// The position of a system column in the select list.
    pub fn system_position(&self, column: SystemColumn) -> Option<usize> {
        let index = SystemColumn::ALL.iter().position(|c| *c == column)?;
        self.system_positions[index]
    }
}

/// The columns of the select list, in order.
pub(crate) fn select_columns(def: &ModelDef) -> Vec<&'static str> {
    def.fields
        .iter()
        .map(|f| f.name)
        .chain(def.added_system_columns().map(SystemColumn::name))
        .collect()
}
