//! The README's example, as a program you can run:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It gets a fresh database from the test harness (`DATABASE_URL`, else
//! PostgreSQL on 127.0.0.1:5432, else a throwaway cluster), with the schema
//! applied and login roles for the application and the admin, then walks
//! through the tenant scope.

use tenant_model::prelude::*;
use tenant_model::testing::TestDb;

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Free,
    Pro,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "users", soft_delete(by = User))]
#[tenant_model(many_to_many(teams = Team, through = Membership))]
#[tenant_model(unique(email, name = "uq_tenant_email"), index(created_at desc))]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 255)]
    pub email: String,
    pub hashed_password: Option<String>,
    #[tenant_model(default = true)]
    pub is_active: bool,
    #[tenant_model(default = "free")]
    pub plan: Plan,
    #[tenant_model(default = "{}")]
    pub preferences: serde_json::Value,
}

/// One-to-many: `Organization::TEAMS`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "organizations", has_many(teams = Team))]
pub struct Organization {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub name: String,
}

/// Many-to-one from the reference: `Team::ORGANIZATION`; many-to-many
/// through the link model: `Team::MEMBERS`.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "teams", many_to_many(members = User, through = Membership))]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Organization, on_delete = cascade)]
    pub organization_id: Uuid,
    pub name: String,
}

/// The link between users and teams, with a column of its own.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "memberships", link(User, Team))]
pub struct Membership {
    #[tenant_model(primary_key, references = User, on_delete = cascade)]
    pub user_id: Uuid,
    #[tenant_model(primary_key, references = Team, on_delete = cascade)]
    pub team_id: Uuid,
    #[tenant_model(default = "member")]
    pub role: Role,
}

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

impl User {
    /// A new user with a theme. `with_defaults` (from `NewRow`, which the
    /// derive implements) takes the required fields (here only `email`)
    /// and fills the rest: a UUIDv7 `id`, the declared defaults, `None`.
    fn new(email: &str, theme: &str) -> User {
        User {
            preferences: serde_json::json!({ "theme": theme }),
            ..User::with_defaults(email.to_owned())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The DDL: enums, tables, keys, indexes, RLS, policies, grants.
    let schema = Schema::new()
        .model::<User>()
        .model::<Organization>()
        .model::<Team>()
        .model::<Membership>();
    let test_db = TestDb::new(&schema).await?;
    println!("database {} (dropped at exit)", test_db.name());

    // The tenant pool logs in as the application role, which is neither
    // superuser nor owner, so row-level security applies to it; the admin
    // pool as a member of the admin role.
    let db = Db::from_pool(test_db.app_pool(4)).with_admin(test_db.admin_pool(1));

    // The Db reads its role at the first connection and refuses one that
    // row-level security does not hold against (a superuser, BYPASSRLS, the
    // tables' owner); audit() checks the live catalog against the schema.
    let role = db.check_role().await?;
    let report = db.audit(&schema).await?;
    println!("connected as {}; {report}", role.name);
    assert!(report.is_ok());

    // Creating tenants is admin work: it goes through the admin pool and is
    // audited. A tenant's id is the TenantId that scopes take.
    let acme: TenantId = db.create_tenant("Acme", "acme").await?.id;
    let globex: TenantId = db.create_tenant("Globex", "globex").await?.id;

    // One statement, one round trip: BEGIN, the tenant context, INSERT and
    // COMMIT go out together; tenant_id and the timestamps come back.
    let ann = db
        .tenant(acme)
        .insert(User::new("ann@acme.test", "dark"))
        .await?;
    db.tenant(acme)
        .insert(User::new("bob@acme.test", "light"))
        .await?;
    db.tenant(globex)
        .insert(User::new("ann@acme.test", "dark"))
        .await?; // unique per tenant
    println!(
        "inserted {} for tenant {:?} at {}",
        ann.email,
        ann.tenant_id(),
        ann.created_at()
    );

    // Several statements in one transaction; begin() sends nothing.
    let mut tx = db.tenant(acme).begin().await?;
    let dark = User::query()
        .filter(User::IS_ACTIVE.eq(true))
        .filter(User::PREFERENCES.get_text("theme").eq("dark"))
        .order_by(User::CREATED_AT.desc())
        .limit(50)
        .all(&mut tx)
        .await?;
    println!(
        "acme users with the dark theme: {:?}",
        dark.iter().map(|u| &u.email).collect::<Vec<_>>()
    );
    tx.update::<User>(ann.id, Changes::new().set(User::PLAN, Plan::Pro))
        .await?;
    tx.soft_delete::<User>(ann.id, None).await?;
    tx.commit().await?;

    // Or as a closure: commit on Ok, roll back on Err or panic.
    let live = db
        .tenant(acme)
        .run(async |tx| User::query().count(tx).await)
        .await?;
    let all = db
        .tenant(acme)
        .run(async |tx| User::query().with_deleted().count(tx).await)
        .await?;
    println!("acme: {live} live user(s), {all} with the soft-deleted");

    // Globex cannot see Acme's rows, by key or otherwise.
    let seen = db.tenant(globex).get::<User>(ann.id).await?;
    println!("globex looking up acme's user by id: {seen:?}");
    assert!(seen.is_none());

    // Relationships, loaded in batches: one statement per relation for all
    // the rows, never one per row, always in the tenant.
    let mut tx = db.tenant(acme).begin().await?;
    let rnd = tx
        .insert(Organization {
            id: Uuid::now_v7(),
            name: "R&D".into(),
        })
        .await?;
    let core = tx
        .insert(Team {
            id: Uuid::now_v7(),
            organization_id: rnd.id,
            name: "Core".into(),
        })
        .await?;
    let cy = tx.insert(User::new("cy@acme.test", "dark")).await?;
    let link = Membership {
        user_id: cy.id,
        team_id: core.id,
        role: Role::Admin,
    };
    Team::MEMBERS.attach(&mut tx, core.id, cy.id, link).await?;
    let orgs = Organization::query()
        .with(Organization::TEAMS.with(Team::MEMBERS))
        .all(&mut tx)
        .await?;
    for org in &orgs {
        for team in &org.related {
            for member in &team.related {
                println!(
                    "{} / {}: {} ({:?})",
                    org.name, team.name, member.email, member.link.role
                );
            }
        }
    }
    let parent = core.load(Team::ORGANIZATION, &mut tx).await?;
    assert_eq!(parent.map(|o| o.id), Some(rnd.id));
    let teams_of_cy = cy.load(User::TEAMS, &mut tx).await?;
    assert_eq!(teams_of_cy[0].link.role, Role::Admin);
    let with_core = Organization::query()
        .filter(Organization::TEAMS.any(Team::NAME.eq("Core")))
        .count(&mut tx)
        .await?;
    assert_eq!(with_core, 1);
    tx.commit().await?;

    // Errors are typed.
    match db
        .tenant(acme)
        .insert(User::new("bob@acme.test", "light"))
        .await
    {
        Err(e) if e.is_unique_violation() => {
            println!("duplicate email rejected by {:?}", e.constraint())
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    Ok(())
}
