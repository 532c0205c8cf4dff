//! Relationships: loading (one row, eager batches, nested, many-to-many
//! with the link's columns) inside a tenant context, never across tenants,
//! with a fixed number of statements whatever the number of parents.

use tenant_model::{Executor, Model, Record};
use uuid::Uuid;

use crate::models::{Organization, Team, User, UserRole, UserTeamLink};
use crate::observability::Capture;
use crate::support::{app_db, seeded, user, without_rls, Seed};

pub fn org(name: &str) -> Organization {
    Organization {
        id: Uuid::now_v7(),
        name: name.to_owned(),
    }
}

pub fn team(org: Uuid, name: &str) -> Team {
    Team {
        id: Uuid::now_v7(),
        organization_id: org,
        name: name.to_owned(),
    }
}

pub fn link(user: Uuid, team: Uuid, role: UserRole) -> UserTeamLink {
    UserTeamLink {
        user_id: user,
        team_id: team,
        role,
    }
}

/// Tenant A: `orgs` organizations with two teams each; every team has
/// Ann (the seeded user) as owner and a second user as member.
pub struct Graph {
    pub orgs: Vec<Organization>,
    pub teams: Vec<Team>,
    pub member: Uuid,
}

pub async fn graph(seed: &Seed, db: &tenant_model::Db, orgs: usize) -> Graph {
    let mut scope = db.tenant(seed.tenant_a);
    let member = scope.insert(user("max@acme.test")).await.unwrap().id;
    let orgs: Vec<Organization> = (0..orgs).map(|i| org(&format!("org {i}"))).collect();
    let teams: Vec<Team> = orgs
        .iter()
        .flat_map(|o| [team(o.id, "red"), team(o.id, "blue")])
        .collect();
    let links: Vec<UserTeamLink> = teams
        .iter()
        .flat_map(|t| {
            [
                link(seed.user_a, t.id, UserRole::Owner),
                link(member, t.id, UserRole::Member),
            ]
        })
        .collect();
    scope.insert_many(&orgs).await.unwrap();
    scope.insert_many(&teams).await.unwrap();
    scope.insert_many(&links).await.unwrap();
    Graph {
        orgs,
        teams,
        member,
    }
}

#[tokio::test]
async fn a_team_loads_its_organization_one_row_and_a_batch() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 3).await;
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();

    let red: Record<Team> = tx.find::<Team>(g.teams[2].id).await.unwrap();
    let parent = red.load(Team::ORGANIZATION, &mut tx).await.unwrap();
    assert_eq!(parent.map(|o| o.into_inner()), Some(g.orgs[1].clone()));

    let teams = Team::query()
        .order_by(Team::ID.asc())
        .with(Team::ORGANIZATION)
        .all(&mut tx)
        .await
        .unwrap();
    assert_eq!(teams.len(), 6);
    // Rows loaded already: the same, one statement.
    let plain = Team::query()
        .order_by(Team::ID.asc())
        .all(&mut tx)
        .await
        .unwrap();
    let again = tenant_model::load_related(plain, Team::ORGANIZATION, &mut tx)
        .await
        .unwrap();
    assert_eq!(again, teams);
    for team in &teams {
        let org = team
            .related
            .as_ref()
            .expect("every team has its organization");
        assert_eq!(org.id, team.organization_id);
        assert_eq!(org.tenant_id(), Some(seed.tenant_a.into()));
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn organizations_load_their_teams_and_the_teams_members_with_roles() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 2).await;

    // On a scope: the rows and both relations in one transaction.
    let orgs = Organization::query()
        .order_by(Organization::NAME.asc())
        .with(Organization::TEAMS.with(Team::MEMBERS))
        .all(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    assert_eq!(orgs.len(), 2);
    for (org, expected) in orgs.iter().zip(&g.orgs) {
        assert_eq!(org.id, expected.id);
        let names: Vec<&str> = org.related.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["red", "blue"], "teams come in key order");
        for team in &org.related {
            assert_eq!(team.organization_id, org.id);
            let members: Vec<(Uuid, UserRole)> =
                team.related.iter().map(|m| (m.id, m.link.role)).collect();
            assert_eq!(
                members,
                [(seed.user_a, UserRole::Owner), (g.member, UserRole::Member)]
            );
            // The link row comes with its own columns and timestamps.
            let ann = &team.related[0];
            assert_eq!(ann.link.team_id, team.id);
            assert_eq!(ann.full_name, "Ann");
            assert!(ann.link.created_at() <= chrono::Utc::now());
        }
    }
}

#[tokio::test]
async fn a_user_loads_their_teams_with_their_role_in_each() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 2).await;
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let ann = tx.find::<User>(seed.user_a).await.unwrap();
    let teams = ann
        .load(User::TEAMS.with(Team::ORGANIZATION), &mut tx)
        .await
        .unwrap();
    let ids: Vec<Uuid> = teams.iter().map(|t| t.id).collect();
    let expected: Vec<Uuid> = g.teams.iter().map(|t| t.id).collect();
    assert_eq!(ids, expected);
    assert!(teams.iter().all(|t| t.link.role == UserRole::Owner));
    assert!(teams
        .iter()
        .all(|t| t.related.as_ref().map(|o| o.id) == Some(t.organization_id)));

    // Several relations at once: a tuple, whose output is a tuple.
    let team = tx.find::<Team>(g.teams[0].id).await.unwrap();
    let (org, members) = team
        .load((Team::ORGANIZATION, Team::MEMBERS), &mut tx)
        .await
        .unwrap();
    assert_eq!(org.map(|o| o.id), Some(g.orgs[0].id));
    assert_eq!(members.len(), 2);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn soft_deleted_related_rows_are_hidden_unless_asked_for() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 1).await;
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    tx.soft_delete::<User>(g.member, None).await.unwrap();
    let team = tx.find::<Team>(g.teams[0].id).await.unwrap();

    let members = team.load(Team::MEMBERS, &mut tx).await.unwrap();
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    assert_eq!(ids, [seed.user_a]);

    let members = team
        .load(Team::MEMBERS.with_deleted(), &mut tx)
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    assert!(members.iter().any(|m| m.id == g.member && m.is_deleted()));
    tx.commit().await.unwrap();
}

/// The number of statements the library sent (one span each).
fn statements(capture: &Capture) -> usize {
    capture
        .lines()
        .iter()
        .filter(|l| l.starts_with("span tenant_model.statement:"))
        .count()
}

async fn eager_statements(parents: usize) -> (usize, usize) {
    let seed = seeded().await;
    let db = app_db(&seed.db, 1);
    graph(&seed, &db, parents).await;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    tracing::callsite::rebuild_interest_cache();
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let orgs = Organization::query()
        .with(Organization::TEAMS.with(Team::MEMBERS))
        .all(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let members: usize = orgs
        .iter()
        .flat_map(|o| &o.related)
        .map(|t| t.related.len())
        .sum();
    assert_eq!(orgs.len(), parents);
    assert_eq!(members, parents * 4);
    (statements(&capture), members)
}

#[tokio::test(flavor = "current_thread")]
async fn eager_loading_sends_the_same_statements_for_10_or_100_parents() {
    let (ten, _) = eager_statements(10).await;
    let (hundred, members) = eager_statements(100).await;
    assert_eq!(members, 400);
    // The organizations, their teams, the teams' members: three.
    assert_eq!(ten, 3);
    assert_eq!(hundred, 3);
}

#[tokio::test]
async fn loads_never_yield_another_tenants_rows_with_the_same_keys() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 1).await;
    let (org_id, red, blue) = (g.orgs[0].id, g.teams[0].id, g.teams[1].id);
    // Tenant B gets rows with the very same keys, written by the superuser:
    // an organization, a third team in it, and links of B's user to A's
    // team ids.
    let su = seed.db.superuser().await.unwrap();
    su.execute(
        "INSERT INTO organizations (id, tenant_id, name) VALUES ($1, $2, 'B org')",
        &[&org_id, &seed.tenant_b],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO teams (id, tenant_id, organization_id, name) VALUES \
         ($1, $3, $4, 'B red'), ($2, $3, $4, 'B blue'), ($5, $3, $4, 'B only')",
        &[&red, &blue, &seed.tenant_b, &org_id, &Uuid::now_v7()],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO users (id, tenant_id, email, full_name) VALUES ($1, $2, 'ann@globex.test', 'B Ann')",
        &[&seed.user_a, &seed.tenant_b],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO user_team_links (user_id, team_id, tenant_id, role) VALUES \
         ($1, $2, $4, 'guest'), ($3, $2, $4, 'guest')",
        &[&seed.user_a, &red, &seed.user_b, &seed.tenant_b],
    )
    .await
    .unwrap();

    let check = async |db: &tenant_model::Db| {
        let orgs = Organization::query()
            .with(Organization::TEAMS.with((Team::ORGANIZATION, Team::MEMBERS)))
            .all(&mut db.tenant(seed.tenant_a))
            .await
            .unwrap();
        assert_eq!(orgs.len(), 1);
        assert_eq!(orgs[0].name, "org 0");
        let teams = &orgs[0].related;
        let names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["red", "blue"]);
        for team in teams {
            let (org, members) = &team.related;
            assert_eq!(org.as_ref().map(|o| o.name.as_str()), Some("org 0"));
            assert_eq!(members.len(), 2);
            assert!(members
                .iter()
                .all(|m| m.tenant_id() == Some(seed.tenant_a.into())
                    && m.link.tenant_id() == Some(seed.tenant_a.into())
                    && m.link.role != UserRole::Guest
                    && m.full_name != "B Ann"));
        }
    };
    check(&db).await;
    // Without row-level security the library's own filters still hold.
    for table in ["organizations", "teams", "users", "user_team_links"] {
        without_rls(&seed.db, table).await;
    }
    check(&db).await;
}

#[tokio::test]
async fn loading_needs_a_tenant_context() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    graph(&seed, &db, 1).await;
    let err = db
        .admin("relations without a tenant")
        .unwrap()
        .run(async |tx| {
            Organization::query()
                .with(Organization::TEAMS)
                .all(tx)
                .await
                .map(drop)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, tenant_model::Error::NoTenantContext),
        "{err:?}"
    );
}

#[tokio::test]
async fn links_are_attached_changed_and_detached_in_the_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut scope = db.tenant(seed.tenant_a);
    let acme = scope.insert(org("Acme")).await.unwrap();
    let red = scope.insert(team(acme.id, "red")).await.unwrap();

    // The link's key columns come from the two keys, not from the value.
    let stored = User::TEAMS
        .attach(
            &mut scope,
            seed.user_a,
            red.id,
            link(Uuid::nil(), Uuid::nil(), UserRole::Admin),
        )
        .await
        .unwrap();
    assert_eq!((stored.user_id, stored.team_id), (seed.user_a, red.id));
    assert_eq!(stored.role, UserRole::Admin);
    assert_eq!(stored.tenant_id(), Some(seed.tenant_a.into()));

    let changed = Team::MEMBERS
        .update_link(
            &mut scope,
            red.id,
            seed.user_a,
            tenant_model::Changes::new().set(UserTeamLink::ROLE, UserRole::Owner),
        )
        .await
        .unwrap();
    assert_eq!(changed.role, UserRole::Owner);
    let members = red.load(Team::MEMBERS, &mut scope).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].link.role, UserRole::Owner);

    // Tenant B sees no such link to change or detach.
    let mut b = db.tenant(seed.tenant_b);
    let err = User::TEAMS
        .detach(&mut b, seed.user_a, red.id)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    User::TEAMS
        .detach(&mut scope, seed.user_a, red.id)
        .await
        .unwrap();
    assert!(red
        .load(Team::MEMBERS, &mut scope)
        .await
        .unwrap()
        .is_empty());
    assert!(User::TEAMS
        .detach(&mut scope, seed.user_a, red.id)
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn a_link_across_tenants_is_refused_by_the_composite_foreign_keys() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let acme = db.tenant(seed.tenant_a).insert(org("Acme")).await.unwrap();
    let red = db
        .tenant(seed.tenant_a)
        .insert(team(acme.id, "red"))
        .await
        .unwrap();
    // B links its own user to A's team: no such team in B.
    let err = User::TEAMS
        .attach(
            &mut db.tenant(seed.tenant_b),
            seed.user_b,
            red.id,
            link(seed.user_b, red.id, UserRole::Member),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, tenant_model::Error::ForeignKeyViolation { .. }),
        "{err:?}"
    );
    // A links B's user to its team: no such user in A.
    let err = Team::MEMBERS
        .attach(
            &mut db.tenant(seed.tenant_a),
            red.id,
            seed.user_b,
            link(seed.user_b, red.id, UserRole::Member),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, tenant_model::Error::ForeignKeyViolation { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn filters_across_relations_stay_in_the_tenant() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let g = graph(&seed, &db, 2).await;
    let mut scope = db.tenant(seed.tenant_a);
    let empty = scope.insert(org("empty")).await.unwrap();
    // Tenant B: an organization named like A's first, with a team "green"
    // whose key is A's first team's, and B's user in it.
    let su = seed.db.superuser().await.unwrap();
    su.execute(
        "INSERT INTO organizations (id, tenant_id, name) VALUES ($1, $2, 'org 0')",
        &[&empty.id, &seed.tenant_b],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO teams (id, tenant_id, organization_id, name) VALUES ($1, $2, $3, 'green')",
        &[&g.teams[2].id, &seed.tenant_b, &empty.id],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO user_team_links (user_id, team_id, tenant_id, role) VALUES ($1, $2, $3, 'guest')",
        &[&seed.user_b, &g.teams[2].id, &seed.tenant_b],
    )
    .await
    .unwrap();
    without_rls(&seed.db, "organizations").await;
    without_rls(&seed.db, "teams").await;
    without_rls(&seed.db, "user_team_links").await;

    let teams = Team::query()
        .filter(Team::ORGANIZATION.matches(Organization::NAME.eq("org 0")))
        .all(&mut scope)
        .await
        .unwrap();
    let mut ids: Vec<Uuid> = teams.iter().map(|t| t.id).collect();
    ids.sort();
    assert_eq!(ids, [g.teams[0].id, g.teams[1].id]);

    let names = |orgs: Vec<Record<Organization>>| {
        let mut names: Vec<String> = orgs.into_iter().map(|o| o.into_inner().name).collect();
        names.sort();
        names
    };
    let with_red = Organization::query()
        .filter(Organization::TEAMS.any(Team::NAME.eq("red")))
        .all(&mut scope)
        .await
        .unwrap();
    assert_eq!(names(with_red), ["org 0", "org 1"]);
    let no_teams = Organization::query()
        .filter(Organization::TEAMS.none(tenant_model::Filter::all([])))
        .all(&mut scope)
        .await
        .unwrap();
    assert_eq!(names(no_teams), ["empty"], "B's team does not count");
    let green = Organization::query()
        .filter(Organization::TEAMS.any(Team::NAME.eq("green")))
        .count(&mut scope)
        .await
        .unwrap();
    assert_eq!(green, 0);

    // Many-to-many, nested: users in a team of "org 1".
    let users = User::query()
        .filter(User::TEAMS.any(Team::ORGANIZATION.matches(Organization::NAME.eq("org 1"))))
        .order_by(User::EMAIL.asc())
        .all(&mut scope)
        .await
        .unwrap();
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids, [seed.user_a, g.member]);
    // The link's own columns: teams with an owner; B's guest links to
    // teams with A's keys do not count.
    let owned = Team::query()
        .filter(Team::MEMBERS.any_link(UserTeamLink::ROLE.eq(UserRole::Owner)))
        .count(&mut scope)
        .await
        .unwrap();
    assert_eq!(owned, 4);
    let with_guests = Team::query()
        .filter(Team::MEMBERS.any_link(UserTeamLink::ROLE.eq(UserRole::Guest)))
        .count(&mut scope)
        .await
        .unwrap();
    assert_eq!(with_guests, 0);
    let in_green = User::query()
        .filter(User::TEAMS.any(Team::NAME.eq("green")))
        .count(&mut scope)
        .await
        .unwrap();
    assert_eq!(in_green, 0);
}
