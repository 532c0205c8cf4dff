//! The data model of the multi-tenant SaaS standard: tenants (built in),
//! users, organizations, teams, and the user/team link with a role enum.

use tenant_model::prelude::*;

/// A user's role in a team (`CREATE TYPE user_role AS ENUM (...)`).
#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// Owns the team.
    Owner,
    /// Manages the team.
    Admin,
    /// A regular member (the default).
    Member,
    /// Read-only access.
    Guest,
}

/// A user of one tenant. Email is unique per tenant, not globally, and
/// among live users only: a soft-deleted user's email can sign up again.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "users", soft_delete(by = User))]
#[tenant_model(many_to_many(teams = Team, through = UserTeamLink))]
#[tenant_model(unique(email, name = "uq_tenant_email"), index(created_at desc))]
#[tenant_model(index(created_at, where = "is_active", name = "idx_users_active"))]
pub struct User {
    /// Primary key.
    #[tenant_model(primary_key)]
    pub id: Uuid,
    /// Login email, unique within the tenant.
    #[tenant_model(max_length = 255, index)]
    pub email: String,
    /// Display name.
    #[tenant_model(max_length = 255)]
    pub full_name: String,
    /// Bcrypt hash; `None` for OAuth users.
    #[tenant_model(max_length = 255)]
    pub hashed_password: Option<String>,
    /// Account status.
    #[tenant_model(default = true)]
    pub is_active: bool,
    /// Tenant-level admin flag (an application permission; it grants no
    /// cross-tenant access in the database).
    #[tenant_model(default = false)]
    pub is_superuser: bool,
    /// Free-form metadata.
    #[tenant_model(default = "{}")]
    pub metadata: serde_json::Value,
    /// UI preferences.
    #[tenant_model(default = r#"{"theme": "light", "language": "en"}"#)]
    pub preferences: serde_json::Value,
}

/// An organization within a tenant, with its teams (`Organization::TEAMS`).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "organizations", has_many(teams = Team))]
pub struct Organization {
    /// Primary key.
    #[tenant_model(primary_key)]
    pub id: Uuid,
    /// Display name.
    #[tenant_model(max_length = 255)]
    pub name: String,
}

/// A team, belonging to an organization of the same tenant
/// (`Team::ORGANIZATION`), with its members through `UserTeamLink`
/// (`Team::MEMBERS`, each with their role).
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "teams", many_to_many(members = User, through = UserTeamLink))]
pub struct Team {
    /// Primary key.
    #[tenant_model(primary_key)]
    pub id: Uuid,
    /// The organization (same tenant, enforced by a composite foreign key).
    #[tenant_model(references = Organization, on_delete = cascade)]
    pub organization_id: Uuid,
    /// Display name.
    #[tenant_model(max_length = 255)]
    pub name: String,
}

/// Membership of a user in a team, with the user's role there.
#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "user_team_links", link(User, Team))]
pub struct UserTeamLink {
    /// The user.
    #[tenant_model(primary_key, references = User, on_delete = cascade)]
    pub user_id: Uuid,
    /// The team.
    #[tenant_model(primary_key, references = Team, on_delete = cascade)]
    pub team_id: Uuid,
    /// The user's role in the team.
    #[tenant_model(default = "member")]
    pub role: UserRole,
}

/// The schema of the whole model, `tenants` included.
pub fn schema() -> Schema {
    Schema::new()
        .model::<User>()
        .model::<Organization>()
        .model::<Team>()
        .model::<UserTeamLink>()
}
