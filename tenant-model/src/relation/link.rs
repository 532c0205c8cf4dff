//! Link management for many-to-many relations: attach, detach and change
//! the link row between two rows, in the tenant of the context.
//!
//! The link's foreign keys are composite with `tenant_id`, so linking to a
//! row of another tenant (or to no row) is refused by the database with
//! [`Error::ForeignKeyViolation`].

use crate::error::Error;
use crate::exec::executor::{traced_count, traced_rows, Executor};
use crate::exec::statement::Sql;
use crate::model::record::Record;
use crate::model::tenant_id::TenantId;
use crate::model::{Model, Param, Scope};
use crate::query::changes::Changes;
use crate::relation::def::ManyToMany;
use crate::sql::sql_text::ident;

impl<L: Model, R: Model, K: Model> ManyToMany<L, R, K>
where
    L::Key: tokio_postgres::types::ToSql + Sync,
    R::Key: tokio_postgres::types::ToSql + Sync,
{
    /// Links `from` (a key of `L`) and `to` (a key of `R`) with the link
    /// row `link`, whose own columns (a role, say) are stored as given and
    /// whose two key columns are set from `from` and `to`. Returns the link
    /// row as stored.
    ///
    /// A link to a row the tenant does not have (another tenant's, or
    /// none) is refused by the link's composite foreign keys:
    /// [`Error::ForeignKeyViolation`]. On a link model with `soft_delete`,
    /// a detached link keeps its key: attaching the same pair again gives
    /// [`Error::UniqueViolation`]; `restore` that link row instead.
    ///
    /// ```no_run
    /// # use tenant_model::prelude::*;
    /// # #[derive(PgEnum, Debug, Clone, Copy, PartialEq)] enum UserRole { Admin, Member }
    /// # #[derive(TenantModel, Debug)]
    /// # #[tenant_model(many_to_many(teams = Team, through = UserTeamLink))]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid }
    /// # #[derive(TenantModel, Debug)]
    /// # struct Team { #[tenant_model(primary_key)] id: Uuid }
    /// # #[derive(TenantModel, Debug)]
    /// # struct UserTeamLink {
    /// #   #[tenant_model(primary_key, references = User, on_delete = cascade)] user_id: Uuid,
    /// #   #[tenant_model(primary_key, references = Team, on_delete = cascade)] team_id: Uuid,
    /// #   role: UserRole }
    /// # async fn f(mut tx: Tx, ann: Uuid, red: Uuid) -> Result<(), tenant_model::Error> {
    /// let link = UserTeamLink { user_id: ann, team_id: red, role: UserRole::Admin };
    /// User::TEAMS.attach(&mut tx, ann, red, link).await?;
    /// User::TEAMS
    ///     .update_link(&mut tx, ann, red, Changes::new().set(UserTeamLink::ROLE, UserRole::Member))
    ///     .await?;
    /// User::TEAMS.detach(&mut tx, ann, red).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach<E: Executor>(
        &self,
        executor: &mut E,
        from: L::Key,
        to: R::Key,
        link: K,
    ) -> Result<Record<K>, Error> {
        let tenant = link_tenant::<K>(executor.tenant_id())?;
        let (source, target) = (self.def.column, self.target_column());
        let values = link.insert_values();
        let mut params: Vec<Param<'_>> = Vec::with_capacity(values.len() + 1);
        if let Some(tenant) = &tenant {
            params.push(tenant);
        }
        for (field, value) in K::DEF.writable_fields().zip(values) {
            params.push(match field.name {
                c if c == source => &from,
                c if c == target => &to,
                _ => value,
            });
        }
        let insert = &K::sql().statements(tenant.is_some()).insert;
        let rows = traced_rows::<K, E>(executor, "attach", Sql::fixed(insert), &params).await?;
        match rows.first() {
            Some(row) => Record::from_row(row),
            None => Err(Error::NotFound {
                table: K::DEF.table,
            }),
        }
    }

    /// Removes the link between `from` and `to`: a soft delete when the
    /// link model has `soft_delete`, otherwise a delete.
    /// [`Error::NotFound`] when they are not linked.
    pub async fn detach<E: Executor>(
        &self,
        executor: &mut E,
        from: L::Key,
        to: R::Key,
    ) -> Result<(), Error> {
        let tenant = link_tenant::<K>(executor.tenant_id())?;
        let (filter, params) = self.link_where(&tenant, &from, &to, 1);
        let sql = match K::DEF.soft_delete {
            Some(_) => format!(
                "UPDATE {} SET is_deleted = true, deleted_at = statement_timestamp(), updated_at = statement_timestamp() WHERE {filter} AND NOT is_deleted",
                K::sql().table
            ),
            None => format!("DELETE FROM {} WHERE {filter}", K::sql().table),
        };
        match traced_count::<K, E>(executor, "detach", &sql, &params).await? {
            0 => Err(Error::NotFound {
                table: K::DEF.table,
            }),
            _ => Ok(()),
        }
    }

    /// Changes the link row between `from` and `to` (its own columns, such
    /// as a role); returns it as stored. [`Error::NotFound`] when they are
    /// not linked.
    pub async fn update_link<E: Executor>(
        &self,
        executor: &mut E,
        from: L::Key,
        to: R::Key,
        changes: Changes<K>,
    ) -> Result<Record<K>, Error> {
        if changes.is_empty() {
            return Err(Error::InvalidQuery(
                "an update needs at least one change".to_owned(),
            ));
        }
        if let Some(column) = changes.system_column() {
            return Err(Error::InvalidQuery(format!(
                "`{column}` is managed by tenant-model and cannot be set in an update"
            )));
        }
        let tenant = link_tenant::<K>(executor.tenant_id())?;
        let (filter, mut params) = self.link_where(&tenant, &from, &to, 1);
        let (assignments, values) = changes.assignments(params.len() + 1);
        params.extend(values);
        let sql = format!(
            "UPDATE {} SET {assignments} WHERE {filter}{} RETURNING {}",
            K::sql().table,
            if K::DEF.soft_delete.is_some() {
                " AND NOT is_deleted"
            } else {
                ""
            },
            K::sql().select_list
        );
        let rows = traced_rows::<K, E>(executor, "update_link", &sql, &params).await?;
        match rows.first() {
            Some(row) => Record::from_row(row),
            None => Err(Error::NotFound {
                table: K::DEF.table,
            }),
        }
    }

    /// `tenant_id = $1 AND source = $2 AND target = $3` and its parameters.
    fn link_where<'a>(
        &self,
        tenant: &'a Option<TenantId>,
        from: &'a L::Key,
        to: &'a R::Key,
        first: usize,
    ) -> (String, Vec<Param<'a>>) {
        let mut params: Vec<Param<'a>> = Vec::with_capacity(3);
        let mut conditions = Vec::with_capacity(3);
        if let Some(tenant) = tenant {
            params.push(tenant);
            conditions.push(format!("tenant_id = ${}", first + params.len() - 1));
        }
        for (column, value) in [
            (self.def.column, from as Param<'a>),
            (self.target_column(), to as Param<'a>),
        ] {
            params.push(value);
            conditions.push(format!("{} = ${}", ident(column), first + params.len() - 1));
        }
        (conditions.join(" AND "), params)
    }
}

/// The tenant a link statement acts in: required on tenant link models.
fn link_tenant<K: Model>(tenant: Option<TenantId>) -> Result<Option<TenantId>, Error> {
    match K::DEF.scope {
        Scope::Tenant => tenant.map(Some).ok_or(Error::NoTenantContext),
        _ => Ok(None),
    }
}
