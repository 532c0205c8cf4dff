//! `Record<M>`: a loaded row, the model plus the columns the library manages.

use std::ops::{Deref, DerefMut};

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::Error;
use crate::model::tenant_id::TenantId;
use crate::model::{Model, SystemColumn};

/// A row loaded from the database: the model's fields plus the system
/// columns (tenant_id, timestamps, soft-delete state).
///
/// Derefs to the model, so `user.email` reads the field and
/// `user.created_at()` the system column.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<M> {
    model: M,
    system: SystemColumns,
}

/// The values of the system columns of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemColumns {
    /// `tenant_id` (`None` on global tables and on `tenants` itself).
    pub tenant_id: Option<TenantId>,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// `is_deleted` (`false` on models without soft delete).
    pub is_deleted: bool,
    /// `deleted_at`.
    pub deleted_at: Option<DateTime<Utc>>,
    /// `deleted_by_id`.
    pub deleted_by_id: Option<Uuid>,
}

impl<M: Model> Record<M> {
    /// Decodes a row laid out as [`crate::ModelSql::select_list`].
    pub fn from_row(row: &Row) -> Result<Self, Error> {
        Record::from_row_at(row, 0)
    }

    /// Decodes the columns from `offset` on of a row laid out as
    /// [`crate::ModelSql::select_list`] from there (a join returning the
    /// columns of two models).
    pub fn from_row_at(row: &Row, offset: usize) -> Result<Self, Error> {
        let model = M::from_row_at(row, offset)?;
        let sql = M::sql();
        let get = |c: SystemColumn| sql.system_position(c).map(|i| i + offset);
        let system = SystemColumns {
            tenant_id: match get(SystemColumn::TenantId) {
                Some(i) => Some(decode(row, i)?),
                None => None,
            },
            created_at: decode(row, required(M::DEF.table, get(SystemColumn::CreatedAt))?)?,
            updated_at: decode(row, required(M::DEF.table, get(SystemColumn::UpdatedAt))?)?,
            is_deleted: match get(SystemColumn::IsDeleted) {
                Some(i) => decode(row, i)?,
                None => false,
            },
            deleted_at: match get(SystemColumn::DeletedAt) {
                Some(i) => decode(row, i)?,
                None => None,
            },
            deleted_by_id: match get(SystemColumn::DeletedById) {
                Some(i) => decode(row, i)?,
                None => None,
            },
        };
        Ok(Record { model, system })
    }
}

/// Every table has `created_at` and `updated_at`; a description without
/// them is not one the derive produces.
fn required(table: &'static str, position: Option<usize>) -> Result<usize, Error> {
    position.ok_or_else(|| {
        Error::InvalidQuery(format!(
            "the description of {table} lacks its timestamp columns"
        ))
    })
}

/// Decodes column `index` of `row`, naming the column on failure.
pub fn decode<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
) -> Result<T, Error> {
    row.try_get(index).map_err(|source| Error::Decode {
        column: row
            .columns()
            .get(index)
            .map_or_else(|| index.to_string(), |c| c.name().to_owned()),
        source,
    })
}

impl<M> Record<M> {
    /// Builds a record from its parts.
    pub fn new(model: M, system: SystemColumns) -> Self {
        Record { model, system }
    }

    /// The model, without the system columns.
    pub fn into_inner(self) -> M {
        self.model
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// All system columns.
    pub fn system(&self) -> &SystemColumns {
        &self.system
    }

    /// The owning tenant (`None` for global tables and `tenants` rows).
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.system.tenant_id
    }

    /// When the row was inserted.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.system.created_at
    }

    /// When the row was last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.system.updated_at
    }

    /// Whether the row is soft-deleted.
    pub fn is_deleted(&self) -> bool {
        self.system.is_deleted
    }

    /// When the row was soft-deleted.
    pub fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.system.deleted_at
    }

    /// Who soft-deleted the row.
    pub fn deleted_by_id(&self) -> Option<Uuid> {
        self.system.deleted_by_id
    }
}

impl<M> Deref for Record<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.model
    }
}

impl<M> DerefMut for Record<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.model
    }
}
