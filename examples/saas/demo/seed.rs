//! The demo's data: two tenants, each with users, organizations, teams and
//! memberships with roles, written as the application role in each
//! tenant's scope.

use serde_json::json;
use tenant_model::prelude::*;

use super::{show, DemoError, Output};
use crate::models::{Organization, Team, User, UserRole, UserTeamLink};

/// A tenant of the demo and the rows the walkthrough refers to.
#[derive(Debug)]
pub struct SeededTenant {
    /// The tenant's id.
    pub id: TenantId,
    /// Its display name.
    pub name: String,
    /// Its users, in the order they were created.
    pub users: Vec<Record<User>>,
    /// Its teams, in the order they were created.
    pub teams: Vec<Record<Team>>,
}

/// One tenant's data, as plain values.
struct Plan {
    name: &'static str,
    slug: &'static str,
    /// Email, full name, theme.
    users: &'static [(&'static str, &'static str, &'static str)],
    /// Organization, then its teams with (user index, role) members.
    orgs: &'static [(&'static str, &'static [Squad])],
}

/// A team and its members, by index into the plan's users.
type Squad = (&'static str, &'static [(usize, UserRole)]);

const ACME: Plan = Plan {
    name: "Acme",
    slug: "acme",
    users: &[
        ("ann@acme.test", "Ann Archer", "dark"),
        ("bob@acme.test", "Bob Baker", "light"),
        ("cy@acme.test", "Cy Cole", "dark"),
    ],
    orgs: &[
        (
            "Engineering",
            &[
                ("Core", &[(0, UserRole::Owner), (1, UserRole::Member)]),
                ("Platform", &[(2, UserRole::Admin), (0, UserRole::Guest)]),
            ],
        ),
        ("Sales", &[("Field", &[(1, UserRole::Owner)])]),
    ],
};

const GLOBEX: Plan = Plan {
    name: "Globex",
    slug: "globex",
    users: &[
        ("dee@globex.test", "Dee Dunn", "dark"),
        ("eve@globex.test", "Eve Ellis", "light"),
    ],
    orgs: &[(
        "Research",
        &[("Lab", &[(0, UserRole::Owner), (1, UserRole::Member)])],
    )],
};

/// Creates the two tenants through the audited admin scope, then each
/// tenant's rows in one transaction of that tenant.
pub async fn two_tenants(
    db: &Db,
    out: &mut Output,
) -> Result<(SeededTenant, SeededTenant), DemoError> {
    out.heading("Two tenants, created through the audited admin scope");
    let acme = tenant(db, &ACME, out).await?;
    let globex = tenant(db, &GLOBEX, out).await?;
    Ok((acme, globex))
}

async fn tenant(db: &Db, plan: &Plan, out: &mut Output) -> Result<SeededTenant, DemoError> {
    let admin = db.admin(format!("demo: create tenant {}", plan.slug))?;
    let row = admin
        .run(async |tx| tx.insert(Tenant::new(plan.name, plan.slug)).await)
        .await?;
    let id: TenantId = row.id;

    let mut tx = db.tenant(id).begin().await?;
    let mut users = Vec::new();
    for (email, full_name, theme) in plan.users {
        users.push(tx.insert(user(email, full_name, theme)).await?);
    }
    let mut teams = Vec::new();
    let mut links = 0;
    for (org_name, squads) in plan.orgs {
        let org = tx
            .insert(Organization {
                id: Uuid::now_v7(),
                name: (*org_name).to_owned(),
            })
            .await?;
        for (team_name, members) in *squads {
            let team = tx
                .insert(Team {
                    id: Uuid::now_v7(),
                    organization_id: org.id,
                    name: (*team_name).to_owned(),
                })
                .await?;
            for (index, role) in *members {
                let member = users.get(*index).ok_or_else(|| {
                    DemoError::Unexpected(format!("no user #{index} in {}", plan.name))
                })?;
                let link = UserTeamLink {
                    user_id: member.id,
                    team_id: team.id,
                    role: *role,
                };
                Team::MEMBERS
                    .attach(&mut tx, team.id, member.id, link)
                    .await?;
                links += 1;
            }
            teams.push(team);
        }
    }
    tx.commit().await?;

    out.line(format!(
        "{} ({}): {}, {}, {}, {}",
        row.name,
        row.slug,
        show::count(users.len() as i64, "user"),
        show::count(plan.orgs.len() as i64, "organization"),
        show::count(teams.len() as i64, "team"),
        show::count(links, "membership"),
    ));
    Ok(SeededTenant {
        id,
        name: row.name.clone(),
        users,
        teams,
    })
}

/// A new active user with UI preferences in JSONB.
fn user(email: &str, full_name: &str, theme: &str) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        full_name: full_name.to_owned(),
        hashed_password: None,
        is_active: true,
        is_superuser: false,
        metadata: json!({}),
        preferences: json!({ "theme": theme, "language": "en" }),
    }
}
