//! Every kind of relation, named by the user, with typed handles.

use tenant_model::prelude::*;
use tenant_model::{BelongsTo, HasMany, Linked, Loaded, ManyToMany, Record};

#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
pub enum Role {
    Admin,
    Member,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(has_many(teams = Team, via = user_id), has_many(owned_teams = Team, via = owner_id))]
#[tenant_model(many_to_many(memberships = Team, through = Membership))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(has_many(children = Self))]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = User)]
    pub user_id: Uuid,
    #[tenant_model(references = User, relation = "owner")]
    pub owner_id: Option<Uuid>,
    #[tenant_model(references = Self, on_delete = cascade)]
    pub parent_id: Option<Uuid>,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(link(User, Team))]
pub struct Membership {
    #[tenant_model(primary_key, references = User, on_delete = cascade)]
    pub user_id: Uuid,
    #[tenant_model(primary_key, references = Team, on_delete = cascade)]
    pub team_id: Uuid,
    pub role: Role,
}

/// Loading returns typed rows: a nested load of members' teams with links.
fn _typed(
    _: Vec<Loaded<Record<User>, Vec<Loaded<Linked<Team, Membership>, Option<Record<User>>>>>>,
) {
}

fn main() {
    let _: BelongsTo<Team, User> = Team::USER;
    let _: BelongsTo<Team, User> = Team::OWNER;
    let _: BelongsTo<Team, Team> = Team::PARENT;
    let _: BelongsTo<Membership, Team> = Membership::TEAM;
    let _: HasMany<User, Team> = User::TEAMS;
    let _: HasMany<Team, Team> = Team::CHILDREN;
    let _: ManyToMany<User, Team, Membership> = User::MEMBERSHIPS;
    let _ = User::query().with(User::MEMBERSHIPS.with(Team::OWNER));
    let _ = Team::query().with((Team::USER, Team::CHILDREN.with_deleted()));
    assert_eq!(User::TEAMS.def().column, "user_id");
    assert_eq!(User::OWNED_TEAMS.def().column, "owner_id");
    assert_eq!(User::MEMBERSHIPS.def().column, "user_id");
    assert_eq!(Team::CHILDREN.def().column, "parent_id");
    assert_eq!(Team::OWNER.name(), "owner");
    let names: Vec<&str> = User::relations().iter().map(|r| r.name).collect();
    assert_eq!(names, ["teams", "owned_teams", "memberships"]);
    let names: Vec<&str> = Team::relations().iter().map(|r| r.name).collect();
    assert_eq!(names, ["user", "owner", "parent", "children"]);
}
