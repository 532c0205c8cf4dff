//! The built-in root table, `tenants`.
//!
//! Written by hand, in the shape `#[derive(TenantModel)]` generates, because
//! the root table is the one model that is neither tenant-scoped nor global.

use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::Error;
use crate::model::column::Column;
use crate::model::column_type::{ColumnType, SqlType};
use crate::model::record::decode;
use crate::model::tenant_id::TenantId;
use crate::model::{BoxedParam, ColumnDef, DefaultValue, Model, ModelDef, Param, Scope, UniqueDef};
use crate::sql::model_sql::ModelSql;

/// A tenant: the root every tenant-scoped row belongs to.
///
/// The application role sees and renames (`name`) only its own tenant's row
/// (a policy on `id`); creating, listing, switching off and deleting
/// tenants is admin work, and so is changing a `slug`. Slugs are unique
/// across all tenants, so a tenant that could set its own would learn
/// whether another tenant's slug exists (the unique violation) and could
/// squat free ones: the application role has no `UPDATE` on `slug`, and
/// trying gives [`Error::PermissionDenied`].
///
/// ```no_run
/// # use tenant_model::prelude::*;
/// # async fn f(db: Db, acme: TenantId) -> Result<(), tenant_model::Error> {
/// // A tenant renames itself...
/// db.tenant(acme)
///     .update::<Tenant>(acme, Changes::new().set(Tenant::NAME, "Acme Inc"))
///     .await?;
/// // ...but a slug change is audited admin work.
/// db.admin("slug change, ticket 12")?
///     .run(async |tx| {
///         tx.update::<Tenant>(acme, Changes::new().set(Tenant::SLUG, "acme-inc"))
///             .await
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Primary key (`DEFAULT gen_random_uuid()`): the [`TenantId`] scopes
    /// take (a `Uuid` converts with `.into()`, both ways).
    pub id: TenantId,
    /// Display name, `varchar(255)`.
    pub name: String,
    /// URL-friendly identifier, unique across all tenants, `varchar(100)`;
    /// only the admin scope changes it.
    pub slug: String,
    /// Subscription status (`DEFAULT true`).
    pub is_active: bool,
}

impl Tenant {
    /// `id`
    pub const ID: Column<Tenant, TenantId> = Column::new("id");
    /// `name`
    pub const NAME: Column<Tenant, String> = Column::new("name");
    /// `slug`
    pub const SLUG: Column<Tenant, String> = Column::new("slug");
    /// `is_active`
    pub const IS_ACTIVE: Column<Tenant, bool> = Column::new("is_active");
    /// `created_at`
    pub const CREATED_AT: Column<Tenant, chrono::DateTime<chrono::Utc>> = Column::new("created_at");
    /// `updated_at`
    pub const UPDATED_AT: Column<Tenant, chrono::DateTime<chrono::Utc>> = Column::new("updated_at");

    /// A new active tenant with a fresh time-ordered id (UUIDv7).
    pub fn new(name: impl Into<String>, slug: impl Into<String>) -> Tenant {
        Tenant {
            id: TenantId::from(Uuid::now_v7()),
            name: name.into(),
            slug: slug.into(),
            is_active: true,
        }
    }
}

const fn field(
    name: &'static str,
    sql_type: SqlType,
    max_length: Option<u32>,
    default: Option<DefaultValue>,
) -> ColumnDef {
    ColumnDef {
        field: name,
        name,
        sql_type,
        nullable: false,
        max_length,
        default,
        primary_key: false,
        system: None,
    }
}

impl Model for Tenant {
    type Key = TenantId;

    const __TABLE: &'static str = "tenants";

    const DEF: &'static ModelDef = &ModelDef {
        rust_name: "Tenant",
        table: "tenants",
        scope: Scope::Root,
        fields: &[
            ColumnDef {
                primary_key: true,
                default: Some(DefaultValue::Expr("gen_random_uuid()")),
                ..field("id", <TenantId as ColumnType>::SQL_TYPE, None, None)
            },
            field("name", <String as ColumnType>::SQL_TYPE, Some(255), None),
            field("slug", <String as ColumnType>::SQL_TYPE, Some(100), None),
            field(
                "is_active",
                <bool as ColumnType>::SQL_TYPE,
                None,
                Some(DefaultValue::Bool(true)),
            ),
        ],
        primary_key: &["id"],
        uniques: &[UniqueDef {
            name: None,
            columns: &["slug"],
            predicate: None,
            include_deleted: false,
        }],
        indexes: &[],
        foreign_keys: &[],
        soft_delete: None,
        link: None,
    };

    fn sql() -> &'static ModelSql {
        static SQL: std::sync::OnceLock<ModelSql> = std::sync::OnceLock::new();
        SQL.get_or_init(|| ModelSql::new(Self::DEF))
    }

    fn from_row(row: &Row) -> Result<Self, Error> {
        Ok(Tenant {
            id: decode(row, 0)?,
            name: decode(row, 1)?,
            slug: decode(row, 2)?,
            is_active: decode(row, 3)?,
        })
    }

    fn insert_values(&self) -> Vec<Param<'_>> {
        vec![&self.id, &self.name, &self.slug, &self.is_active]
    }

    fn insert_arrays(rows: &[Self]) -> Vec<BoxedParam<'_>> {
        vec![
            Box::new(rows.iter().map(|r| &r.id).collect::<Vec<_>>()),
            Box::new(rows.iter().map(|r| &r.name).collect::<Vec<_>>()),
            Box::new(rows.iter().map(|r| &r.slug).collect::<Vec<_>>()),
            Box::new(rows.iter().map(|r| &r.is_active).collect::<Vec<_>>()),
        ]
    }

    fn key_values(&self) -> Vec<Param<'_>> {
        vec![&self.id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SystemColumn;

    #[test]
    fn select_list_puts_timestamps_after_fields() {
        let sql = Tenant::sql();
        assert_eq!(
            sql.select_list,
            "id, name, slug, is_active, created_at, updated_at"
        );
        assert_eq!(sql.system_position(SystemColumn::CreatedAt), Some(4));
        assert_eq!(sql.system_position(SystemColumn::TenantId), None);
    }

    #[test]
    fn statements_in_a_tenant_context_filter_by_the_tenant_s_own_id() {
        let sql = Tenant::sql();
        assert_eq!(sql.scoped.key_where, "id = $1 AND id = $2");
        assert_eq!(sql.unscoped.key_where, "id = $1");
        assert!(sql.scoped.find.ends_with("WHERE id = $1 AND id = $2"));
        // Inserts take no tenant parameter: creating tenants is admin work.
        assert_eq!(sql.scoped.insert, sql.unscoped.insert);
    }
}
