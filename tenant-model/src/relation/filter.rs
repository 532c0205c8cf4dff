//! Filters across a relation, as `EXISTS` subqueries whose values are
//! bound parameters of the query: teams whose organization matches a
//! filter (`Team::ORGANIZATION.matches(...)`), organizations that have (or
//! have no) teams matching one (`Organization::TEAMS.any(...)`,
//! `.none(...)`), users in a team matching one (`User::TEAMS.any(...)`),
//! teams with a link matching one (`Team::MEMBERS.any_link(...)`).
//!
//! The subquery is tied to the outer row by the foreign key and by
//! `tenant_id` (the composite key), so it never reaches another tenant's
//! rows; soft-deleted related rows do not count unless the relation is
//! asked `with_deleted()`. The related table is named by its table name
//! (an alias when a model relates to itself), and the inner filter's
//! columns are those of the related model.

use crate::model::{Model, ModelDef, Scope};
use crate::query::filter::Filter;
use crate::relation::def::{BelongsTo, HasMany, ManyToMany};
use crate::sql::sql_text::ident;

impl<C: Model, P: Model> BelongsTo<C, P> {
    /// Rows whose related row (the one this row references) matches
    /// `filter`: `Team::ORGANIZATION.matches(Organization::NAME.eq("Acme"))`.
    pub fn matches(&self, filter: Filter<P>) -> Filter<C> {
        let (outer, inner) = names(C::DEF, P::DEF);
        let key = P::DEF.single_key().unwrap_or("id");
        let mut conditions = vec![format!(
            "{inner}.{} = {outer}.{}",
            ident(key),
            ident(self.def.column)
        )];
        conditions.extend(tenant_join(&inner, P::DEF, &outer, C::DEF));
        conditions.extend(live(&inner, P::DEF, self.with_deleted));
        Filter::exists(
            false,
            head(P::DEF, &inner, &conditions),
            filter,
            String::new(),
        )
    }
}

impl<P: Model, C: Model> HasMany<P, C> {
    /// Rows with at least one related row matching `filter`:
    /// `Organization::TEAMS.any(Team::NAME.eq("red"))`. Every live related
    /// row matches `Filter::all([])`.
    pub fn any(&self, filter: Filter<C>) -> Filter<P> {
        self.exists(false, filter)
    }

    /// Rows with no related row matching `filter`
    /// (`Organization::TEAMS.none(Filter::all([]))`: no teams at all).
    pub fn none(&self, filter: Filter<C>) -> Filter<P> {
        self.exists(true, filter)
    }

    fn exists(&self, negated: bool, filter: Filter<C>) -> Filter<P> {
        let (outer, inner) = names(P::DEF, C::DEF);
        let key = P::DEF.single_key().unwrap_or("id");
        let mut conditions = vec![format!(
            "{inner}.{} = {outer}.{}",
            ident(self.def.column),
            ident(key)
        )];
        conditions.extend(tenant_join(&inner, C::DEF, &outer, P::DEF));
        conditions.extend(live(&inner, C::DEF, self.with_deleted));
        Filter::exists(
            negated,
            head(C::DEF, &inner, &conditions),
            filter,
            String::new(),
        )
    }
}

impl<L: Model, R: Model, K: Model> ManyToMany<L, R, K> {
    /// Rows linked to at least one row matching `filter`:
    /// `User::TEAMS.any(Team::NAME.eq("red"))`.
    pub fn any(&self, filter: Filter<R>) -> Filter<L> {
        self.exists(false, filter)
    }

    /// Rows linked to no row matching `filter`.
    pub fn none(&self, filter: Filter<R>) -> Filter<L> {
        self.exists(true, filter)
    }

    /// Rows with at least one live link whose own columns match `filter`
    /// (to a live related row): `Team::MEMBERS.any_link(UserTeamLink::ROLE
    /// .eq(UserRole::Admin))`, the teams with an admin.
    pub fn any_link(&self, filter: Filter<K>) -> Filter<L> {
        self.link_exists(false, filter)
    }

    /// Rows with no live link whose own columns match `filter`.
    pub fn none_link(&self, filter: Filter<K>) -> Filter<L> {
        self.link_exists(true, filter)
    }

    fn link_exists(&self, negated: bool, filter: Filter<K>) -> Filter<L> {
        let (outer, link) = names(L::DEF, K::DEF);
        let target = ident(R::DEF.table).into_owned();
        let source_key = L::DEF.single_key().unwrap_or("id");
        let target_key = R::DEF.single_key().unwrap_or("id");
        let mut conditions = vec![format!(
            "{link}.{} = {outer}.{}",
            ident(self.def.column),
            ident(source_key)
        )];
        conditions.extend(tenant_join(&link, K::DEF, &outer, L::DEF));
        conditions.extend(live(&link, K::DEF, self.with_deleted));
        let mut target_conditions = tenant_join(&target, R::DEF, &outer, L::DEF);
        target_conditions.extend(live(&target, R::DEF, self.with_deleted));
        target_conditions.push("true".to_owned());
        let tail = format!(
            " AND {link}.{} IN (SELECT {target}.{} FROM {target} WHERE {})",
            ident(self.target_column()),
            ident(target_key),
            target_conditions.join(" AND ")
        );
        Filter::exists(negated, head(K::DEF, &link, &conditions), filter, tail)
    }

    fn exists(&self, negated: bool, filter: Filter<R>) -> Filter<L> {
        let (outer, inner) = names(L::DEF, R::DEF);
        let link = ident(K::DEF.table).into_owned();
        let source_key = L::DEF.single_key().unwrap_or("id");
        let target_key = R::DEF.single_key().unwrap_or("id");
        let mut conditions = tenant_join(&inner, R::DEF, &outer, L::DEF);
        conditions.extend(live(&inner, R::DEF, self.with_deleted));
        let mut link_conditions = vec![format!(
            "{link}.{} = {outer}.{}",
            ident(self.def.column),
            ident(source_key)
        )];
        link_conditions.extend(tenant_join(&link, K::DEF, &outer, L::DEF));
        link_conditions.extend(live(&link, K::DEF, self.with_deleted));
        let tail = format!(
            " AND {inner}.{} IN (SELECT {link}.{} FROM {link} WHERE {})",
            ident(target_key),
            ident(self.target_column()),
            link_conditions.join(" AND ")
        );
        let head = head(R::DEF, &inner, &conditions);
        Filter::exists(negated, head, filter, tail)
    }
}

/// The outer table's name and the related one's (aliased when they are
/// the same table).
fn names(outer: &ModelDef, inner: &ModelDef) -> (String, String) {
    let outer_name = ident(outer.table).into_owned();
    let inner_name = if outer.table == inner.table {
        ident(&format!("{}_related", inner.table)).into_owned()
    } else {
        ident(inner.table).into_owned()
    };
    (outer_name, inner_name)
}

/// `SELECT 1 FROM <table> [AS alias] WHERE <conditions>`.
fn head(def: &ModelDef, name: &str, conditions: &[String]) -> String {
    let table = ident(def.table);
    let from = if *table == *name {
        table.into_owned()
    } else {
        format!("{table} AS {name}")
    };
    let conditions = if conditions.is_empty() {
        "true".to_owned()
    } else {
        conditions.join(" AND ")
    };
    format!("SELECT 1 FROM {from} WHERE {conditions}")
}

/// The related rows' tenant: the outer row's (a composite join), or the
/// context's when the outer table has no tenant. Fails closed: without a
/// context the setting is NULL and nothing matches.
fn tenant_join(
    inner: &str,
    inner_def: &ModelDef,
    outer: &str,
    outer_def: &ModelDef,
) -> Vec<String> {
    if inner_def.scope != Scope::Tenant {
        return Vec::new();
    }
    vec![match outer_def.scope {
        Scope::Tenant => format!("{inner}.tenant_id = {outer}.tenant_id"),
        _ => format!(
            "{inner}.tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
        ),
    }]
}

/// `NOT <name>.is_deleted` on soft-delete models, unless asked for all.
fn live(name: &str, def: &ModelDef, with_deleted: bool) -> Option<String> {
    (def.soft_delete.is_some() && !with_deleted).then(|| format!("NOT {name}.is_deleted"))
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[derive(TenantModel)]
    #[tenant_model(soft_delete, has_many(teams = Team))]
    struct Org {
        #[tenant_model(primary_key)]
        id: Uuid,
        name: String,
    }

    #[derive(TenantModel)]
    #[tenant_model(soft_delete)]
    struct Team {
        #[tenant_model(primary_key)]
        id: Uuid,
        #[tenant_model(references = Org)]
        org_id: Uuid,
        name: String,
    }

    #[test]
    fn filters_across_a_relation_are_exists_subqueries_with_bound_values() {
        let sql = Team::query()
            .filter(Team::ORG.matches(Org::NAME.eq("Acme")))
            .to_sql(Some(TenantId::from(Uuid::nil())))
            .unwrap();
        assert!(
            sql.ends_with(
                "WHERE tenant_id = $1 AND NOT is_deleted AND (EXISTS (SELECT 1 FROM orgs WHERE \
                 orgs.id = teams.org_id AND orgs.tenant_id = teams.tenant_id AND NOT orgs.is_deleted \
                 AND (name = $2)))"
            ),
            "{sql}"
        );
        let sql = Org::query()
            .filter(Org::TEAMS.with_deleted().none(Team::NAME.eq("red")))
            .to_sql(None)
            .unwrap();
        assert!(
            sql.ends_with(
                "(NOT EXISTS (SELECT 1 FROM teams WHERE teams.org_id = orgs.id AND \
                 teams.tenant_id = orgs.tenant_id AND (name = $1)))"
            ),
            "{sql}"
        );
    }
}
