//! Every attribute and every supported field type, with the generated
//! description checked at run time.

use serde::{Deserialize, Serialize};
use tenant_model::prelude::*;
use tenant_model::{
    ColumnDef, DefaultValue, IndexColumn, OnDelete, ScalarType, Scope, SqlType, SystemColumn,
};

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    Owner,
    Admin,
    Member,
    Guest,
}

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[tenant_model(type_name = "billing_state")]
pub enum BillingStatus {
    Active,
    #[tenant_model(rename = "past-due")]
    PastDue,
    HTTPError,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Preferences {
    pub theme: String,
    pub compact: bool,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(table = "users", soft_delete(by = User))]
#[tenant_model(unique(email, name = "uq_tenant_email"), index(created_at desc))]
#[tenant_model(index(created_at, where = "is_active"))]
#[tenant_model(
    index(
        metadata,
        using = "gin",
        tenant_prefix = false,
        name = "idx_users_metadata"
    ),
    unique(login_name, where = "is_active")
)]
pub struct User {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(max_length = 255, index)]
    pub email: String,
    #[tenant_model(column = "login_name", max_length = 64, unique)]
    pub login: Option<String>,
    pub hashed_password: Option<String>,
    #[tenant_model(default = true)]
    pub is_active: bool,
    #[tenant_model(default = "{}")]
    pub metadata: serde_json::Value,
    #[tenant_model(default = 3)]
    pub small: i16,
    #[tenant_model(default = -42)]
    pub medium: i32,
    #[tenant_model(default_sql = "0")]
    pub large: i64,
    #[tenant_model(default = 1.5)]
    pub ratio: f32,
    #[tenant_model(default = -2.25e3)]
    pub score: f64,
    pub last_seen: Option<DateTime<Utc>>,
    pub birthday: Option<NaiveDate>,
    pub local_time: NaiveDateTime,
    pub preferences: Json<Preferences>,
    pub tags: Vec<String>,
    pub roles: Vec<UserRole>,
    #[tenant_model(default = "member")]
    pub role: UserRole,
    pub billing: Option<BillingStatus>,
    #[tenant_model(references = Team, on_delete = set_null)]
    pub team_id: Option<Uuid>,
    #[tenant_model(references = User, on_delete = set_default, default_sql = "'00000000-0000-0000-0000-000000000000'")]
    pub invited_by_id: Uuid,
    #[tenant_model(references = Team, on_delete = cascade)]
    pub home_team_id: Uuid,
    #[tenant_model(references = Team, on_delete = restrict)]
    pub billing_team_id: Option<Uuid>,
    #[tenant_model(references = Team, on_delete = no_action)]
    pub r#type: Option<Uuid>,
}

#[derive(TenantModel, Debug, Clone, PartialEq)]
#[tenant_model(soft_delete, unique(name, include_deleted = true))]
pub struct Team {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    pub name: String,
    // System columns declared by the struct itself.
    pub tenant_id: TenantId,
    #[tenant_model(index)]
    pub created_at: DateTime<Utc>,
    pub is_deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Self-referencing soft delete with `Self`.
#[derive(TenantModel, Debug)]
#[tenant_model(soft_delete(by = Self))]
pub struct Category {
    #[tenant_model(primary_key)]
    pub id: Uuid,
    #[tenant_model(references = Category)]
    pub parent_id: Option<Uuid>,
    pub deleted_by_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[derive(TenantModel, Debug)]
#[tenant_model(link(User, Team))]
pub struct UserTeamLink {
    #[tenant_model(primary_key, references = User, on_delete = cascade)]
    pub user_id: Uuid,
    #[tenant_model(primary_key, references = Team, on_delete = cascade)]
    pub team_id: Uuid,
    #[tenant_model(default = "member")]
    pub role: UserRole,
}

#[derive(TenantModel, Debug)]
#[tenant_model(global)]
#[tenant_model(index(code desc, name = "idx_countries_code"))]
pub struct Country {
    #[tenant_model(primary_key, max_length = 2)]
    pub code: String,
    #[tenant_model(unique)]
    pub name: String,
    pub tenant_count: i64,
}

#[derive(TenantModel, Debug)]
pub struct Address {
    #[tenant_model(primary_key)]
    pub id: i64,
}

fn column(def: &'static tenant_model::ModelDef, name: &str) -> &'static ColumnDef {
    def.field(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn main() {
    let def = User::DEF;
    assert_eq!(def.rust_name, "User");
    assert_eq!(def.table, "users");
    assert_eq!(def.scope, Scope::Tenant);
    assert_eq!(def.primary_key, ["id"]);
    assert_eq!(def.fields.len(), 24);
    assert!(def.fields.iter().all(|f| f.system.is_none()));

    let email = column(def, "email");
    assert_eq!(email.field, "email");
    assert_eq!(email.sql_type, SqlType::Scalar(ScalarType::Text));
    assert_eq!(email.max_length, Some(255));
    assert!(!email.nullable);
    let login = column(def, "login_name");
    assert_eq!(login.field, "login");
    assert!(login.nullable);
    assert_eq!(login.max_length, Some(64));
    assert_eq!(
        column(def, "is_active").default,
        Some(DefaultValue::Bool(true))
    );
    assert_eq!(
        column(def, "metadata").default,
        Some(DefaultValue::Str("{}"))
    );
    assert_eq!(
        column(def, "metadata").sql_type,
        SqlType::Scalar(ScalarType::Jsonb)
    );
    assert_eq!(column(def, "small").default, Some(DefaultValue::Int(3)));
    assert_eq!(
        column(def, "small").sql_type,
        SqlType::Scalar(ScalarType::Int2)
    );
    assert_eq!(column(def, "medium").default, Some(DefaultValue::Int(-42)));
    assert_eq!(column(def, "large").default, Some(DefaultValue::Expr("0")));
    assert_eq!(
        column(def, "ratio").default,
        Some(DefaultValue::Float("1.5"))
    );
    assert_eq!(
        column(def, "score").default,
        Some(DefaultValue::Float("-2.25e3"))
    );
    assert_eq!(
        column(def, "score").sql_type,
        SqlType::Scalar(ScalarType::Float8)
    );
    assert_eq!(
        column(def, "last_seen").sql_type,
        SqlType::Scalar(ScalarType::Timestamptz)
    );
    assert!(column(def, "last_seen").nullable);
    assert_eq!(
        column(def, "birthday").sql_type,
        SqlType::Scalar(ScalarType::Date)
    );
    assert_eq!(
        column(def, "local_time").sql_type,
        SqlType::Scalar(ScalarType::Timestamp)
    );
    assert_eq!(
        column(def, "preferences").sql_type,
        SqlType::Scalar(ScalarType::Jsonb)
    );
    assert_eq!(
        column(def, "tags").sql_type,
        SqlType::Array(ScalarType::Text)
    );
    let roles = column(def, "roles").sql_type;
    assert_eq!(roles.enum_def().map(|e| e.name), Some("user_role"));
    assert!(matches!(roles, SqlType::Array(_)));
    assert_eq!(
        column(def, "role").default,
        Some(DefaultValue::Str("member"))
    );
    assert_eq!(
        column(def, "billing").sql_type.enum_def().map(|e| e.labels),
        Some(&["active", "past-due", "http_error"][..])
    );
    assert_eq!(column(def, "id").default, None);
    assert!(column(def, "id").primary_key);
    assert_eq!(column(def, "type").field, "type");

    assert_eq!(def.uniques.len(), 3);
    assert_eq!(def.uniques[0].name, Some("uq_tenant_email"));
    assert_eq!(def.uniques[0].columns, ["email"]);
    assert_eq!(def.uniques[1].columns, ["login_name"]);
    assert_eq!(def.uniques[1].predicate, Some("is_active"));
    assert_eq!(def.uniques[2].columns, ["login_name"]);
    assert!(!def.uniques[0].include_deleted);
    assert!(Team::DEF.uniques[0].include_deleted);

    assert_eq!(def.indexes.len(), 4);
    let columns = |cols: &[IndexColumn]| cols.iter().map(|c| (c.name, c.desc)).collect::<Vec<_>>();
    assert_eq!(columns(def.indexes[0].columns), [("created_at", true)]);
    assert_eq!(def.indexes[1].predicate, Some("is_active"));
    assert_eq!(def.indexes[2].method, Some("gin"));
    assert!(!def.indexes[2].tenant_prefix);
    assert_eq!(def.indexes[2].name, Some("idx_users_metadata"));
    assert_eq!(columns(def.indexes[3].columns), [("email", false)]);
    assert!(def.indexes[3].tenant_prefix);

    let fks: Vec<_> = def
        .foreign_keys
        .iter()
        .map(|fk| (fk.column, (fk.target)().table, fk.on_delete))
        .collect();
    assert_eq!(
        fks,
        [
            ("team_id", "teams", OnDelete::SetNull),
            ("invited_by_id", "users", OnDelete::SetDefault),
            ("home_team_id", "teams", OnDelete::Cascade),
            ("billing_team_id", "teams", OnDelete::Restrict),
            ("type", "teams", OnDelete::NoAction),
        ]
    );
    let by = def
        .soft_delete
        .as_ref()
        .and_then(|s| s.by)
        .map(|by| by().table);
    assert_eq!(by, Some("users"));
    assert!(def.link.is_none());

    // Column constants.
    let _: Column<User, String> = User::EMAIL;
    let _: Column<User, Option<String>> = User::LOGIN;
    let _: Column<User, Option<Uuid>> = User::TYPE;
    let _: Column<User, TenantId> = User::TENANT_ID;
    let _: Column<User, DateTime<Utc>> = User::CREATED_AT;
    let _: Column<User, DateTime<Utc>> = User::UPDATED_AT;
    let _: Column<User, bool> = User::IS_DELETED;
    let _: Column<User, Option<DateTime<Utc>>> = User::DELETED_AT;
    let _: Column<User, Option<Uuid>> = User::DELETED_BY_ID;
    assert_eq!(User::LOGIN.name(), "login_name");
    assert_eq!(User::TYPE.name(), "type");

    // System columns the struct declares.
    let team = Team::DEF;
    assert_eq!(team.table, "teams");
    assert_eq!(
        column(team, "tenant_id").system,
        Some(SystemColumn::TenantId)
    );
    assert_eq!(
        column(team, "created_at").system,
        Some(SystemColumn::CreatedAt)
    );
    assert_eq!(
        column(team, "is_deleted").system,
        Some(SystemColumn::IsDeleted)
    );
    assert_eq!(
        column(team, "deleted_at").system,
        Some(SystemColumn::DeletedAt)
    );
    assert_eq!(
        team.added_system_columns().collect::<Vec<_>>(),
        [SystemColumn::UpdatedAt, SystemColumn::DeletedById]
    );
    assert_eq!(
        team.writable_fields().map(|f| f.name).collect::<Vec<_>>(),
        ["id", "name"]
    );
    assert!(team.soft_delete.as_ref().is_some_and(|s| s.by.is_none()));
    let _: Column<Team, TenantId> = Team::TENANT_ID;
    let _: Column<Team, Option<Uuid>> = Team::DELETED_BY_ID;

    let category = Category::DEF;
    assert_eq!(category.table, "categories");
    assert_eq!(
        category
            .soft_delete
            .as_ref()
            .and_then(|s| s.by)
            .map(|by| by().table),
        Some("categories")
    );
    assert_eq!((category.foreign_keys[0].target)().table, "categories");

    let link = UserTeamLink::DEF;
    assert_eq!(link.table, "user_team_links");
    assert_eq!(link.primary_key, ["user_id", "team_id"]);
    let l = link.link.as_ref().unwrap();
    assert_eq!(((l.left)().table, (l.right)().table), ("users", "teams"));

    let country = Country::DEF;
    assert_eq!(country.table, "countries");
    assert_eq!(country.scope, Scope::Global);
    assert_eq!(
        country.system_columns().collect::<Vec<_>>(),
        [SystemColumn::CreatedAt, SystemColumn::UpdatedAt]
    );
    assert_eq!(country.uniques[0].columns, ["name"]);
    let _: Column<Country, DateTime<Utc>> = Country::CREATED_AT;

    assert_eq!(Address::DEF.table, "addresses");
    assert_eq!(Address::DEF.scope, Scope::Tenant);

    // PgEnum.
    assert_eq!(<UserRole as PgEnum>::ENUM.name, "user_role");
    assert_eq!(
        <UserRole as PgEnum>::ENUM.labels,
        ["owner", "admin", "member", "guest"]
    );
    assert_eq!(UserRole::Admin.label(), "admin");
    assert_eq!(UserRole::from_label("guest"), Some(UserRole::Guest));
    assert_eq!(UserRole::from_label("nobody"), None);
    assert_eq!(<BillingStatus as PgEnum>::ENUM.name, "billing_state");
    assert_eq!(BillingStatus::PastDue.label(), "past-due");
    assert_eq!(<BillingStatus as PgEnum>::ENUM.rust_name, "BillingStatus");

    // Parameter lists.
    let user = User {
        id: Uuid::nil(),
        email: "a@example.com".into(),
        login: None,
        hashed_password: None,
        is_active: true,
        metadata: serde_json::json!({}),
        small: 1,
        medium: 2,
        large: 3,
        ratio: 1.0,
        score: 2.0,
        last_seen: None,
        birthday: None,
        local_time: NaiveDate::from_ymd_opt(2024, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        preferences: Json(Preferences {
            theme: "dark".into(),
            compact: false,
        }),
        tags: vec!["a".into()],
        roles: vec![UserRole::Admin],
        role: UserRole::Member,
        billing: Some(BillingStatus::Active),
        team_id: None,
        invited_by_id: Uuid::nil(),
        home_team_id: Uuid::nil(),
        billing_team_id: None,
        r#type: None,
    };
    assert_eq!(user.insert_values().len(), 24);
    assert_eq!(user.key_values().len(), 1);
    assert_eq!(User::insert_arrays(&[user.clone(), user]).len(), 24);
    let team = Team {
        id: Uuid::nil(),
        name: "t".into(),
        tenant_id: Uuid::nil().into(),
        created_at: Utc::now(),
        is_deleted: false,
        deleted_at: None,
    };
    assert_eq!(team.insert_values().len(), 2);
    assert_eq!(Team::insert_arrays(&[]).len(), 2);
    let link = UserTeamLink {
        user_id: Uuid::nil(),
        team_id: Uuid::nil(),
        role: UserRole::Owner,
    };
    assert_eq!(link.key_values().len(), 2);
}
