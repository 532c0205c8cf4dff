//! The walk through the model, as the application login role (and the
//! admin login role for the audited cross-tenant count): audit, tenants,
//! isolation, JSONB, soft delete, eager loading, a rejected cross-tenant
//! write.

use tenant_model::prelude::*;

use super::seed::{self, SeededTenant};
use super::{show, DemoError, Output};
use crate::models::{self, Organization, Team, User, UserRole, UserTeamLink};

/// Every scene in order, on `db` (application role, admin pool attached).
pub async fn run(db: &Db, out: &mut Output) -> Result<(), DemoError> {
    audit(db, out).await?;
    let (acme, globex) = seed::two_tenants(db, out).await?;
    isolation(db, &acme, &globex, out).await?;
    jsonb(db, &[&acme, &globex], out).await?;
    soft_delete(db, &acme, out).await?;
    eager_loading(db, &[&acme, &globex], out).await?;
    admin_count(db, out).await?;
    cross_tenant_write(db, &acme, &globex, out).await
}

/// The connection's role and the live catalog, checked against the model.
async fn audit(db: &Db, out: &mut Output) -> Result<(), DemoError> {
    let role = db.check_role().await?;
    out.line(format!(
        "connected as {}: not a superuser, not the tables' owner, so row-level security applies",
        role.name
    ));
    let report = db.audit(&models::schema()).await?;
    out.line(report.to_string());
    if !report.is_ok() {
        return Err(DemoError::Unexpected(
            "the audit of the freshly migrated database has findings".into(),
        ));
    }
    Ok(())
}

/// Each tenant counts only its own rows, and cannot find the other's by id.
async fn isolation(
    db: &Db,
    acme: &SeededTenant,
    globex: &SeededTenant,
    out: &mut Output,
) -> Result<(), DemoError> {
    out.heading("Each tenant sees only its own data");
    for tenant in [acme, globex] {
        let scope = || db.tenant(tenant.id);
        let users = User::query().all(&mut scope()).await?;
        let organizations = Organization::query().count(&mut scope()).await?;
        let teams = Team::query().count(&mut scope()).await?;
        let memberships = UserTeamLink::query().count(&mut scope()).await?;
        out.line(format!(
            "{} sees {}, {}, {}, {}: {}",
            tenant.name,
            show::count(users.len() as i64, "user"),
            show::count(organizations, "organization"),
            show::count(teams, "team"),
            show::count(memberships, "membership"),
            show::emails(&users)
        ));
    }
    let ann = first_user(acme)?;
    let seen = db.tenant(globex.id).get::<User>(ann.id).await?;
    out.line(format!(
        "{} looks up {}'s {} by id: {}",
        globex.name,
        acme.name,
        ann.email,
        if seen.is_some() { "found" } else { "not found" }
    ));
    if seen.is_some() {
        return Err(DemoError::Unexpected("a tenant read another's row".into()));
    }
    Ok(())
}

/// `preferences->>'theme' = 'dark'`, per tenant.
async fn jsonb(db: &Db, tenants: &[&SeededTenant], out: &mut Output) -> Result<(), DemoError> {
    out.heading("JSONB: users whose preferences->>'theme' is 'dark'");
    for tenant in tenants {
        let dark = User::query()
            .filter(User::PREFERENCES.get_text("theme").eq("dark"))
            .order_by(User::EMAIL.asc())
            .all(&mut db.tenant(tenant.id))
            .await?;
        out.line(format!("{}: {}", tenant.name, show::emails(&dark)));
    }
    Ok(())
}

/// A user soft-deleted (hidden, kept) and restored.
async fn soft_delete(db: &Db, acme: &SeededTenant, out: &mut Output) -> Result<(), DemoError> {
    out.heading("Soft delete and restore");
    let by = first_user(acme)?;
    let bob = acme
        .users
        .get(1)
        .ok_or_else(|| DemoError::Unexpected("Acme has no second user".into()))?;
    let scope = || db.tenant(acme.id);
    scope().soft_delete::<User>(bob.id, Some(by.id)).await?;
    let live = User::query()
        .order_by(User::EMAIL.asc())
        .all(&mut scope())
        .await?;
    let deleted = User::query().only_deleted().all(&mut scope()).await?;
    out.line(format!(
        "{} soft-deletes {} (by {}): live users {}; soft-deleted {}",
        acme.name,
        bob.email,
        by.email,
        show::emails(&live),
        show::emails(&deleted)
    ));
    let by_id = scope().get::<User>(bob.id).await?;
    out.line(format!(
        "looking {} up by id: {}",
        bob.email,
        if by_id.is_some() { "found" } else { "hidden" }
    ));
    scope().restore::<User>(bob.id).await?;
    let live = User::query()
        .order_by(User::EMAIL.asc())
        .all(&mut scope())
        .await?;
    out.line(format!(
        "{} restores {}: live users {}",
        acme.name,
        bob.email,
        show::emails(&live)
    ));
    Ok(())
}

/// Organizations with their teams, and the teams' members with their
/// roles: one statement per relation for all the rows.
async fn eager_loading(
    db: &Db,
    tenants: &[&SeededTenant],
    out: &mut Output,
) -> Result<(), DemoError> {
    out.heading("Eager loading: organizations, teams, members and their roles");
    for tenant in tenants {
        out.line(tenant.name.clone());
        let orgs = Organization::query()
            .order_by(Organization::NAME.asc())
            .with(Organization::TEAMS.with(Team::MEMBERS))
            .all(&mut db.tenant(tenant.id))
            .await?;
        for org in &orgs {
            out.line(format!("  {}", org.name));
            for team in &org.related {
                let members: Vec<String> = team
                    .related
                    .iter()
                    .map(|m| format!("{} ({})", m.email, show::label(&m.link.role)))
                    .collect();
                out.line(format!("    {}: {}", team.name, show::list(&members)));
            }
        }
    }
    Ok(())
}

/// A count across every tenant: admin work, with a reason, on the admin
/// login role.
async fn admin_count(db: &Db, out: &mut Output) -> Result<(), DemoError> {
    let reason = "demo: count users across tenants";
    out.heading("An audited admin count across tenants");
    let (tenants, users) = db
        .admin(reason)?
        .run(async |tx| {
            let tenants = Tenant::query().count(&mut *tx).await?;
            let users = User::query().count(tx).await?;
            Ok((tenants, users))
        })
        .await?;
    out.line(format!(
        "admin (reason {reason:?}): {} across {}",
        show::count(users, "user"),
        show::count(tenants, "tenant")
    ));
    Ok(())
}

/// Globex tries to write to Acme's rows; the database says no, typed.
async fn cross_tenant_write(
    db: &Db,
    acme: &SeededTenant,
    globex: &SeededTenant,
    out: &mut Output,
) -> Result<(), DemoError> {
    out.heading("Cross-tenant writes are rejected");
    let ann = first_user(acme)?;
    let lab = globex
        .teams
        .first()
        .ok_or_else(|| DemoError::Unexpected("Globex has no team".into()))?;
    let link = UserTeamLink {
        user_id: ann.id,
        team_id: lab.id,
        role: UserRole::Member,
    };
    let attached = Team::MEMBERS
        .attach(&mut db.tenant(globex.id), lab.id, ann.id, link)
        .await;
    rejected(
        out,
        &format!(
            "{} adds {}'s {} to its team {}",
            globex.name, acme.name, ann.email, lab.name
        ),
        attached.map(|_| ()),
    )?;

    let renamed = db
        .tenant(globex.id)
        .update::<User>(
            ann.id,
            Changes::new().set(User::FULL_NAME, "Mallory".to_owned()),
        )
        .await;
    rejected(
        out,
        &format!(
            "{} renames {}'s {} by id",
            globex.name, acme.name, ann.email
        ),
        renamed.map(|_| ()),
    )?;

    let still = db.tenant(acme.id).find::<User>(ann.id).await?;
    out.line(format!(
        "{}'s {} is unchanged: {}",
        acme.name, still.email, still.full_name
    ));
    Ok(())
}

/// Prints how `attempt` was rejected; an attempt that went through is an
/// error of the demo.
fn rejected(out: &mut Output, attempt: &str, outcome: Result<(), Error>) -> Result<(), DemoError> {
    match outcome {
        Err(e) => {
            out.line(format!("{attempt}: rejected with {}", show::error(&e)));
            Ok(())
        }
        Ok(()) => Err(DemoError::Unexpected(format!("{attempt}: it went through"))),
    }
}

/// The tenant's first user (Ann, for Acme).
fn first_user(tenant: &SeededTenant) -> Result<&Record<User>, DemoError> {
    tenant
        .users
        .first()
        .ok_or_else(|| DemoError::Unexpected(format!("{} has no users", tenant.name)))
}
