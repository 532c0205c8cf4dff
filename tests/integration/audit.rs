//! Row-level security holds only against roles it applies to: a `Db`
//! refuses a pool whose role can escape it, and `db.audit(&schema)` finds
//! each kind of drift in the live catalog. Every drift is made by the
//! superuser and seen by an audit run as the application role.

use tenant_model::audit::{Finding, RoleEscape, UnsafeView};
use tenant_model::schema::PolicyCommand;
use tenant_model::testing::TestDb;
use tenant_model::{Db, Error, Executor, Model, Schema};
use tokio_postgres::config::Host;
use tokio_postgres::Config;

use crate::models::User;
use crate::observability::Capture;
use crate::support::{app_db, count, in_tenant, schema, seeded, Seed};

/// A libpq key-value string for `config`, password included, for
/// `Db::connect`.
fn url(config: &Config) -> String {
    let host = match &config.get_hosts()[0] {
        Host::Tcp(name) => name.clone(),
        Host::Unix(path) => path.display().to_string(),
    };
    let mut url = format!(
        "host={host} port={} user={} dbname={}",
        config.get_ports()[0],
        config.get_user().expect("a user"),
        config.get_dbname().expect("a database"),
    );
    if let Some(password) = config.get_password() {
        url += &format!(" password={}", String::from_utf8_lossy(password));
    }
    url
}

/// A fresh database, `sql` run on it by the superuser, then audited against
/// `schema` as the application role.
async fn findings_after(schema: &Schema, sql: &str) -> Vec<Finding> {
    let db = TestDb::new(schema).await.expect("test database");
    let su = db.superuser().await.expect("superuser connection");
    su.batch_execute(sql).await.expect("make the drift");
    let report = app_db(&db, 1).audit(schema).await.expect("audit");
    report.findings().collect()
}

/// The refusal a `Db` on `config` meets, through `Db::connect`,
/// `Db::from_pool` + `check_role`, and a scope's first statement.
async fn refusals(config: Config, tenant: uuid::Uuid) -> [Error; 3] {
    let connected = Db::connect(&url(&config))
        .await
        .expect_err("Db::connect refuses the role");
    let db = Db::from_pool(Db::pool_from_config(config, 1));
    let checked = db
        .check_role()
        .await
        .expect_err("check_role refuses the role");
    let used = db
        .tenant(tenant)
        .find::<User>(uuid::Uuid::now_v7())
        .await
        .expect_err("the scope refuses the role");
    [connected, checked, used]
}

fn assert_refused(errors: &[Error], role: &str, reason: &RoleEscape) {
    for error in errors {
        match error {
            Error::UnsafeRole {
                role: refused,
                reason: why,
            } => {
                assert_eq!(refused, role, "{error}");
                assert_eq!(why, reason, "{error}");
            }
            other => panic!("expected Error::UnsafeRole, got {other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains("IN ROLE tenant_model_app")
                && message.contains("insecure_allow_rls_bypass"),
            "the message says what to do: {message}"
        );
    }
}

#[tokio::test]
async fn a_clean_database_audits_clean_as_the_app_role() {
    let schema = schema();
    let db = TestDb::new(&schema).await.expect("test database");
    let report = app_db(&db, 1).audit(&schema).await.expect("audit");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.role.name, db.app_role());
    assert!(!report.role.superuser && !report.role.bypass_rls);
    assert!(report
        .role
        .member_of
        .iter()
        .any(|m| m.role == schema.app_role_name()));
    assert!(report.role.owned_tables.is_empty());
    assert!(report.server_version_num >= tenant_model::audit::MIN_SERVER_VERSION_NUM);
    let names: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
    let expected: Vec<&str> = schema.tables().iter().map(|t| t.name).collect();
    assert_eq!(names, expected);
    for table in &report.tables {
        let guarded = table.scope != tenant_model::Scope::Global;
        assert!(table.exists, "{}", table.table);
        assert_eq!(
            (table.rls_enabled, table.rls_forced),
            (guarded, guarded),
            "{}",
            table.table
        );
    }
    assert!(report.to_string().ends_with(": no findings"), "{report}");
}

#[tokio::test]
async fn disabled_row_level_security_is_reported() {
    let findings = findings_after(&schema(), "ALTER TABLE users DISABLE ROW LEVEL SECURITY").await;
    assert_eq!(
        findings,
        [Finding::RlsDisabled {
            table: "users".into()
        }]
    );
}

#[tokio::test]
async fn row_level_security_that_is_not_forced_is_reported() {
    let findings = findings_after(&schema(), "ALTER TABLE teams NO FORCE ROW LEVEL SECURITY").await;
    assert_eq!(
        findings,
        [Finding::RlsNotForced {
            table: "teams".into()
        }]
    );
    assert!(findings[0]
        .to_string()
        .contains("ALTER TABLE teams FORCE ROW LEVEL SECURITY"));
}

#[tokio::test]
async fn a_dropped_policy_is_reported() {
    let findings = findings_after(&schema(), "DROP POLICY users_tenant_isolation ON users").await;
    match &findings[..] {
        [Finding::PolicyMissing { table, policy }] => {
            assert_eq!(table, "users");
            assert_eq!(policy.name, "users_tenant_isolation");
            assert_eq!(policy.command, PolicyCommand::All);
            assert!(policy.roles.is_empty(), "PUBLIC");
            let using = policy.using.as_deref().unwrap_or_default();
            assert!(
                using.contains("current_setting('app.tenant_id'::text, true)"),
                "the expected rule, as the server deparses it: {using}"
            );
        }
        other => panic!("expected one missing policy, got {other:?}"),
    }
}

#[tokio::test]
async fn a_policy_edited_by_hand_under_its_own_name_is_reported() {
    let findings = findings_after(
        &schema(),
        "ALTER POLICY users_tenant_isolation ON users USING (tenant_id IS NOT NULL)",
    )
    .await;
    match &findings[..] {
        [Finding::PolicyChanged { table, change }] => {
            assert_eq!(table, "users");
            assert_eq!(change.live.name, "users_tenant_isolation");
            assert_eq!(
                change.live.using.as_deref(),
                Some("(tenant_id IS NOT NULL)")
            );
            assert_eq!(change.expected.with_check, change.live.with_check);
            assert_ne!(change.expected.using, change.live.using);
        }
        other => panic!("expected one changed policy, got {other:?}"),
    }
}

#[tokio::test]
async fn policies_are_compared_by_their_rule_not_their_name_or_spelling() {
    // Renamed, and recreated with casts and parentheses spelled another way:
    // the server normalizes both to the same rule.
    let findings = findings_after(
        &schema(),
        "ALTER POLICY users_admin_access ON users RENAME TO users_admin_renamed;
         DROP POLICY users_tenant_isolation ON users;
         CREATE POLICY users_isolated ON users
             USING (tenant_id = (SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid))
             WITH CHECK (((tenant_id) = (SELECT CAST(nullif(current_setting('app.tenant_id', true), '') AS uuid))));",
    )
    .await;
    assert_eq!(findings, []);
}

#[tokio::test]
async fn an_extra_permissive_policy_is_reported() {
    let findings = findings_after(&schema(), "CREATE POLICY sneaky ON notes USING (true)").await;
    match &findings[..] {
        [Finding::PolicyExtra { table, policy }] => {
            assert_eq!(table, "notes");
            assert_eq!(policy.name, "sneaky");
            assert!(policy.permissive);
            assert_eq!(policy.using.as_deref(), Some("true"));
        }
        other => panic!("expected one extra policy, got {other:?}"),
    }
}

#[tokio::test]
async fn a_truncate_grant_is_reported() {
    let schema = schema();
    let sql = format!(
        "GRANT TRUNCATE ON users TO {}; GRANT TRUNCATE ON plans TO PUBLIC",
        schema.app_role_name()
    );
    let findings = findings_after(&schema, &sql).await;
    assert_eq!(
        findings,
        [
            Finding::TruncateGranted {
                table: "plans".into(),
                grantee: "PUBLIC".into()
            },
            Finding::TruncateGranted {
                table: "users".into(),
                grantee: schema.app_role_name().into()
            },
        ]
    );
}

#[tokio::test]
async fn a_missing_table_is_reported() {
    let findings = findings_after(&schema(), "DROP TABLE user_team_links").await;
    assert_eq!(
        findings,
        [Finding::TableMissing {
            table: "user_team_links".into()
        }]
    );
}

/// The audit's findings, which must all be unsafe views, as (view,
/// materialized, tables read).
async fn unsafe_views(db: &Db, schema: &Schema) -> Vec<(String, bool, Vec<String>)> {
    let report = db.audit(schema).await.expect("audit");
    report
        .findings()
        .map(|finding| match finding {
            Finding::UnsafeView(UnsafeView {
                view,
                materialized,
                over,
                ..
            }) => (view, materialized, over),
            other => panic!("expected only unsafe views, found: {other}"),
        })
        .collect()
}

#[tokio::test]
async fn views_over_tenant_tables_must_run_as_the_invoker() {
    let seed = seeded().await;
    let schema = schema();
    let su = seed.db.superuser().await.unwrap();
    su.batch_execute(&format!(
        "CREATE VIEW user_emails AS SELECT tenant_id, email FROM users;
         GRANT SELECT ON user_emails TO {};",
        schema.app_role_name()
    ))
    .await
    .unwrap();
    let db = app_db(&seed.db, 1);
    assert_eq!(
        unsafe_views(&db, &schema).await,
        [("user_emails".to_owned(), false, vec!["users".to_owned()])]
    );
    // The finding is real: through the view, one tenant sees both.
    let mut app = seed.db.app().await.unwrap();
    let tx = in_tenant(&mut app, seed.tenant_a).await;
    assert_eq!(count(&tx, "SELECT count(*) FROM user_emails").await, 2);
    drop(tx);

    // security_invoker fixes it; a view over that view, or a materialized
    // view, brings it back.
    su.batch_execute(
        "ALTER VIEW user_emails SET (security_invoker = true);
         CREATE VIEW emails AS SELECT email FROM user_emails;
         CREATE MATERIALIZED VIEW team_count AS SELECT count(*) FROM teams;",
    )
    .await
    .unwrap();
    let tx = in_tenant(&mut app, seed.tenant_a).await;
    assert_eq!(count(&tx, "SELECT count(*) FROM user_emails").await, 1);
    drop(tx);
    assert_eq!(
        unsafe_views(&db, &schema).await,
        [
            ("emails".to_owned(), false, vec!["users".to_owned()]),
            ("team_count".to_owned(), true, vec!["teams".to_owned()]),
        ]
    );
}

#[tokio::test]
async fn bypassrls_on_the_application_role_is_reported() {
    // The audit checks the schema's application role by name; here that is
    // the test's own login role, so no cluster-wide role shared with other
    // tests changes.
    let db = TestDb::new(&schema()).await.expect("test database");
    let audited = schema().app_role(db.app_role());
    let su = db.superuser().await.unwrap();
    su.batch_execute(&format!("ALTER ROLE {} BYPASSRLS", db.app_role()))
        .await
        .unwrap();
    let findings: Vec<Finding> = app_db(&db, 1)
        .audit(&audited)
        .await
        .unwrap()
        .findings()
        .collect();
    assert_eq!(
        findings,
        [
            Finding::UnsafeRole {
                role: db.app_role().into(),
                escape: RoleEscape::BypassRls
            },
            Finding::GroupRoleUnsafe {
                role: db.app_role().into(),
                escape: RoleEscape::BypassRls
            },
        ]
    );
}

#[tokio::test]
async fn a_missing_application_role_is_reported() {
    let db = TestDb::new(&schema()).await.expect("test database");
    let audited = schema().app_role("tm_audit_no_such_role");
    let findings: Vec<Finding> = app_db(&db, 1)
        .audit(&audited)
        .await
        .unwrap()
        .findings()
        .collect();
    assert_eq!(
        findings,
        [Finding::GroupRoleMissing {
            role: "tm_audit_no_such_role".into()
        }]
    );
}

#[tokio::test]
async fn a_superuser_connection_is_refused() {
    let seed = seeded().await;
    let config = seed.db.superuser_config();
    let superuser = config.get_user().unwrap().to_owned();
    let errors = refusals(config, seed.tenant_a).await;
    assert_refused(&errors, &superuser, &RoleEscape::Superuser);
}

/// Runs `sql` as the superuser, then checks that the application login role
/// is refused for `reason` however the `Db` is made.
async fn app_refused_after(seed: &Seed, sql: &str, reason: RoleEscape) {
    let su = seed.db.superuser().await.expect("superuser connection");
    su.batch_execute(sql).await.expect("change the role");
    let errors = refusals(seed.db.app_config(), seed.tenant_a).await;
    assert_refused(&errors, seed.db.app_role(), &reason);
}

#[tokio::test]
async fn a_bypassrls_connection_is_refused() {
    let seed = seeded().await;
    let (app, admin) = (seed.db.app_role(), seed.db.admin_role());
    let sql = format!("ALTER ROLE {app} BYPASSRLS");
    app_refused_after(&seed, &sql, RoleEscape::BypassRls).await;

    // Being able to SET ROLE to a BYPASSRLS role is the same.
    let sql = format!(
        "ALTER ROLE {app} NOBYPASSRLS; ALTER ROLE {admin} BYPASSRLS; GRANT {admin} TO {app}"
    );
    let reason = RoleEscape::MemberOfPrivileged {
        role: admin.into(),
        superuser: false,
    };
    app_refused_after(&seed, &sql, reason).await;
}

#[tokio::test]
async fn the_table_owner_is_refused() {
    let seed = seeded().await;
    let sql = format!("ALTER TABLE notes OWNER TO {}", seed.db.app_role());
    let reason = RoleEscape::OwnsTable {
        table: "notes".into(),
    };
    app_refused_after(&seed, &sql, reason).await;
}

#[tokio::test]
async fn a_member_of_the_owner_role_is_refused() {
    let seed = seeded().await;
    let (app, owner) = (seed.db.app_role(), seed.db.admin_role());
    let sql = format!("ALTER TABLE notes OWNER TO {owner}; GRANT {owner} TO {app}");
    let reason = RoleEscape::MemberOfOwner {
        owner: owner.into(),
        table: "notes".into(),
    };
    app_refused_after(&seed, &sql, reason).await;
}

#[tokio::test]
async fn a_superuser_admin_pool_is_refused_at_its_first_use() {
    let seed = seeded().await;
    let db = Db::from_pool(seed.db.app_pool(1))
        .with_admin(Db::pool_from_config(seed.db.superuser_config(), 1));
    db.check_role().await.expect("the tenant pool is fine");
    let err = db
        .admin("report")
        .unwrap()
        .run(async |tx| User::query().count(tx).await)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsafeRole {
                reason: RoleEscape::Superuser,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_insecure_opt_out_lets_a_superuser_through_with_a_warning() {
    let seed = seeded().await;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let db = Db::from_pool(Db::pool_from_config(seed.db.superuser_config(), 1))
        .insecure_allow_rls_bypass();
    let role = db.check_role().await.expect("let through");
    assert_eq!(role.escapes(), [RoleEscape::Superuser]);
    // Row-level security protects nothing now: raw SQL sees every tenant.
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let seen: i64 = tx
        .raw_query("SELECT count(*) FROM users", &[])
        .await
        .unwrap()[0]
        .get(0);
    assert_eq!(seen, 2);
    tx.commit().await.unwrap();
    let warnings: Vec<String> = capture
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("event tenant_model::audit") && l.contains("INSECURE"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, at the first connection: {warnings:?}"
    );
    assert!(
        warnings[0].contains("reason=it is a superuser"),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_role_is_checked_once_at_the_first_connection() {
    let seed = seeded().await;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let db = app_db(&seed.db, 2);
    // Two connections at once, then many checkouts.
    let (scope_a, scope_b) = (db.tenant(seed.tenant_a), db.tenant(seed.tenant_b));
    let (a, b) = tokio::join!(
        scope_a.run(async |tx| User::query().count(tx).await),
        scope_b.run(async |tx| User::query().count(tx).await),
    );
    assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
    for _ in 0..5 {
        User::query()
            .count(&mut db.tenant(seed.tenant_a))
            .await
            .unwrap();
    }
    let checks = capture
        .lines()
        .iter()
        .filter(|l| l.starts_with("span tenant_model.role_check"))
        .count();
    assert_eq!(
        checks, 1,
        "one role query for the pool, not one per checkout"
    );

    // The verdict is kept: a role changed afterwards is caught by a new Db
    // (and by db.audit), not by this one's checkouts.
    let su = seed.db.superuser().await.unwrap();
    su.batch_execute(&format!("ALTER ROLE {} BYPASSRLS", seed.db.app_role()))
        .await
        .unwrap();
    User::query()
        .count(&mut db.tenant(seed.tenant_a))
        .await
        .unwrap();
    let fresh = app_db(&seed.db, 1);
    assert!(matches!(
        fresh.check_role().await,
        Err(Error::UnsafeRole {
            reason: RoleEscape::BypassRls,
            ..
        })
    ));
    let report = db.audit(&schema()).await.unwrap();
    assert!(report.findings().any(|f| f
        == Finding::UnsafeRole {
            role: seed.db.app_role().into(),
            escape: RoleEscape::BypassRls
        }));
}
