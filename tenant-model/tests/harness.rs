//! Tests of the database test harness, `tenant_model::testing`.
//!
//! `cargo test -p tenant-model --features testing --test harness`

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tenant_model::testing::{self, Cluster, Locator, Origin, TestDb};
use tenant_model::{Error, Schema};
use tokio_postgres::{Client, Config, NoTls};

async fn connect(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// A local TCP port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Whether a process runs (a zombie does not).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        }
    }
}

fn postmaster_pid(data_dir: &Path) -> u32 {
    let pid = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    pid.lines().next().unwrap().trim().parse().unwrap()
}

async fn database_exists(name: &str) -> bool {
    let server = testing::server().await.unwrap();
    let client = server.connect().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    row.get::<_, i64>(0) == 1
}

async fn roles_existing(names: &[&str]) -> i64 {
    let server = testing::server().await.unwrap();
    let client = server.connect().await.unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    client
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname::text = ANY($1)",
            &[&names],
        )
        .await
        .unwrap()
        .get(0)
}

/// The login role's attributes, its membership in `group`, and how many
/// tables it owns (directly or through a role it inherits).
async fn check_login_role(db: &TestDb, role: &str, group: &str) {
    let su = db.superuser().await.unwrap();
    let row = su
        .query_one(
            "SELECT r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.rolinherit, r.rolcreatedb, \
                    r.rolcreaterole, pg_has_role(r.rolname, $2::text, 'MEMBER'), \
                    (SELECT count(*) FROM pg_tables \
                      WHERE pg_has_role(r.rolname, tableowner, 'USAGE')) \
               FROM pg_roles r WHERE r.rolname = $1::text",
            &[&role, &group],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "{role} is a superuser");
    assert!(!row.get::<_, bool>(1), "{role} has BYPASSRLS");
    assert!(row.get::<_, bool>(2), "{role} cannot log in");
    assert!(row.get::<_, bool>(3), "{role} does not inherit");
    assert!(
        !row.get::<_, bool>(4) && !row.get::<_, bool>(5),
        "{role} may create dbs/roles"
    );
    assert!(row.get::<_, bool>(6), "{role} is not a member of {group}");
    assert_eq!(row.get::<_, i64>(7), 0, "{role} owns tables");
}

async fn check_database(db: &TestDb, schema: &Schema) {
    let su = db.superuser().await.unwrap();
    let row = su
        .query_one(
            "SELECT current_database()::text, rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), db.name());
    assert!(
        row.get::<_, bool>(1),
        "superuser_config() is not a superuser"
    );

    check_login_role(db, db.app_role(), schema.app_role_name()).await;
    check_login_role(db, db.admin_role(), schema.admin_role_name()).await;

    let app = db.app().await.unwrap();
    let row = app
        .query_one("SELECT current_user::text, current_database()::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), db.app_role());
    assert_eq!(row.get::<_, String>(1), db.name());
    let admin = db.admin().await.unwrap();
    let row = admin
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), db.admin_role());

    if !schema.create_sql().trim().is_empty() {
        let row = app
            .query_one("SELECT to_regclass('tenants') IS NOT NULL", &[])
            .await
            .unwrap();
        assert!(
            row.get::<_, bool>(0),
            "the DDL was not applied: no tenants table"
        );
    }

    // Row-level security applies to the application login role, through
    // the grants and `TO` policies of its group role.
    let group = tenant_model::sql_text::ident(schema.app_role_name());
    su.batch_execute(&format!(
        "CREATE TABLE harness_probe (tenant text NOT NULL);
         INSERT INTO harness_probe VALUES ('a'), ('b');
         ALTER TABLE harness_probe ENABLE ROW LEVEL SECURITY;
         ALTER TABLE harness_probe FORCE ROW LEVEL SECURITY;
         CREATE POLICY by_tenant ON harness_probe TO {group}
             USING (tenant = current_setting('app.tenant_id', true));
         GRANT SELECT ON harness_probe TO {group};"
    ))
    .await
    .unwrap();
    let seen = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, i64>(0);
    let sql = "SELECT count(*) FROM harness_probe";
    assert_eq!(seen(su.query(sql, &[]).await.unwrap()), 2);
    assert_eq!(seen(app.query(sql, &[]).await.unwrap()), 0);
    app.batch_execute("SELECT set_config('app.tenant_id', 'a', false)")
        .await
        .unwrap();
    assert_eq!(seen(app.query(sql, &[]).await.unwrap()), 1);
}

#[tokio::test]
async fn each_test_gets_a_fresh_database_with_the_schema_and_safe_roles() {
    let schema = Schema::new();
    let (a, b) = tokio::join!(TestDb::new(&schema), TestDb::new(&schema));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.name(), b.name());
    for db in [&a, &b] {
        // Named after the test, cut from the front to fit.
        assert!(db.name().starts_with("tm_"), "{}", db.name());
        assert!(
            db.name().contains("_with_the_schema_and_safe_roles_"),
            "{}",
            db.name()
        );
        assert!(db.name().len() <= 57, "{}", db.name());
        check_database(db, &schema).await;
    }
    // The pools connect as the login roles.
    for (pool, role) in [
        (a.app_pool(2), a.app_role()),
        (a.admin_pool(2), a.admin_role()),
    ] {
        let conn = pool.get().await.unwrap();
        let row = conn
            .query_one("SELECT current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), role);
    }
}

mod clash {
    use tenant_model::prelude::*;

    /// Takes the table of the built-in `Tenant` root.
    #[derive(TenantModel)]
    #[tenant_model(global, table = "tenants")]
    pub(crate) struct Account {
        #[tenant_model(primary_key)]
        pub(crate) id: Uuid,
    }
}

#[tokio::test]
async fn a_schema_that_cannot_be_emitted_is_an_error_before_any_database_is_made() {
    let schema = Schema::new().model::<clash::Account>();
    match TestDb::new(&schema).await {
        Err(Error::Schema(error)) => assert_eq!(
            error.to_string(),
            "models `Tenant` and `Account` both map to table `tenants`: give one of them another `#[tenant_model(table = \"...\")]`"
        ),
        Err(other) => panic!("expected Error::Schema, got {other}"),
        Ok(_) => panic!("expected Error::Schema, got a database"),
    }
}

#[tokio::test]
async fn dropping_a_passing_testdb_removes_its_database_and_roles() {
    let db = TestDb::new(&Schema::new()).await.unwrap();
    let (name, app_role, admin_role) = (
        db.name().to_owned(),
        db.app_role().to_owned(),
        db.admin_role().to_owned(),
    );
    assert!(database_exists(&name).await);
    assert_eq!(roles_existing(&[&app_role, &admin_role]).await, 2);
    // An open connection does not stop the drop (WITH (FORCE)).
    let app = db.app().await.unwrap();
    drop(db);
    assert!(!database_exists(&name).await);
    assert_eq!(roles_existing(&[&app_role, &admin_role]).await, 0);
    assert!(app.simple_query("SELECT 1").await.is_err());

    let db = TestDb::new(&Schema::new()).await.unwrap();
    let (name, app_role) = (db.name().to_owned(), db.app_role().to_owned());
    db.close().await.unwrap();
    assert!(!database_exists(&name).await);
    assert_eq!(roles_existing(&[&app_role]).await, 0);
}

#[tokio::test]
async fn a_panicking_test_keeps_its_database() {
    let thread = std::thread::Builder::new()
        .name("harness::a_panicking_test".into())
        .spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let db = TestDb::new(&Schema::new()).await.unwrap();
                let names = [db.name(), db.app_role(), db.admin_role()].map(str::to_owned);
                std::panic::panic_any(names);
            })
        })
        .unwrap();
    let names = *thread
        .join()
        .unwrap_err()
        .downcast::<[String; 3]>()
        .unwrap();
    let [name, app_role, admin_role] = &names;
    assert!(name.starts_with("tm_harness_a_panicking_test_"), "{name}");
    assert!(database_exists(name).await);
    assert_eq!(roles_existing(&[app_role, admin_role]).await, 2);

    let server = testing::server().await.unwrap();
    if let Some(cluster) = server.cluster() {
        // The throwaway cluster's folder is marked to be kept; undo that.
        let marker = cluster.dir().join("keep");
        assert!(marker.exists());
        std::fs::remove_file(marker).unwrap();
    }
    let client = server.connect().await.unwrap();
    let drop_database = format!("DROP DATABASE {name} WITH (FORCE)");
    client.batch_execute(&drop_database).await.unwrap();
    let drop_roles = format!("DROP ROLE {app_role}, {admin_role}");
    client.batch_execute(&drop_roles).await.unwrap();
}

#[tokio::test]
async fn a_throwaway_cluster_answers_on_its_socket_and_stops_on_drop() {
    let cluster = tokio::task::spawn_blocking(Cluster::start)
        .await
        .unwrap()
        .unwrap();
    let dir = cluster.dir().to_owned();
    assert!(cluster.data_dir().starts_with(&dir));
    let pid = postmaster_pid(cluster.data_dir());
    assert!(running(pid));

    let client = connect(&cluster.config()).await;
    let row = client
        .query_one(
            "SELECT 1, current_setting('listen_addresses'), current_user::text",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, String>(1), "", "the cluster listens on TCP");
    assert_eq!(row.get::<_, String>(2), "postgres");
    drop(client);

    let config = cluster.config();
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert!(!running(pid), "the server (pid {pid}) still runs");
    assert!(config.connect(NoTls).await.is_err());
}

/// Set in the child process of the test below.
const CHILD: &str = "TENANT_MODEL_HARNESS_CHILD";

/// Run by the test below in a child process: finds no server but the
/// throwaway cluster, prints where it is, and waits to be killed.
#[test]
#[ignore = "a helper that the test below runs in a child process"]
fn child_process_with_a_cluster() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let closed = format!("postgres://postgres@127.0.0.1:{}/postgres", closed_port());
        Locator::new()
            .localhost(Some(&closed))
            .locate()
            .await
            .unwrap()
    });
    assert_eq!(server.origin(), Origin::Cluster);
    let cluster = server.cluster().unwrap();
    println!(
        "CLUSTER {} {}",
        postmaster_pid(cluster.data_dir()),
        cluster.dir().display()
    );
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_throwaway_cluster_is_stopped_when_its_process_is_killed() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_with_a_cluster",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("CLUSTER "));
    let Some(line) = line else {
        let status = child.wait().unwrap();
        panic!("the child process printed no cluster ({status})");
    };
    let (pid, dir) = line["CLUSTER ".len()..].split_once(' ').unwrap();
    let (pid, dir): (u32, PathBuf) = (pid.parse().unwrap(), dir.into());
    assert!(running(pid) && dir.exists());

    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while (running(pid) || dir.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!running(pid), "the server (pid {pid}) outlived its process");
    assert!(!dir.exists(), "{} outlived its process", dir.display());
}

#[tokio::test]
async fn a_database_url_that_does_not_answer_is_an_error_not_a_fallback() {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", closed_port());
    // The local default would answer, and a cluster could start: neither is tried.
    let error = Locator::new()
        .database_url(Some(&url))
        .locate()
        .await
        .unwrap_err();
    let Error::NoDatabase(message) = error else {
        panic!("not NoDatabase: {error:?}");
    };
    assert!(message.contains("DATABASE_URL"), "{message}");

    let error = Locator::new()
        .database_url(Some("postgres://[nonsense"))
        .locate()
        .await
        .unwrap_err();
    let Error::NoDatabase(message) = error else {
        panic!("not NoDatabase: {error:?}");
    };
    assert!(message.contains("DATABASE_URL"), "{message}");
}

#[tokio::test]
async fn with_nothing_found_the_error_names_all_three_options() {
    let closed = format!("postgres://postgres@127.0.0.1:{}/postgres", closed_port());
    let error = Locator::new()
        .localhost(Some(&closed))
        .start_cluster(false)
        .locate()
        .await
        .unwrap_err();
    let Error::NoDatabase(message) = error else {
        panic!("not NoDatabase: {error:?}");
    };
    for option in ["DATABASE_URL", "127.0.0.1", "initdb"] {
        assert!(message.contains(option), "{option} missing from: {message}");
    }
}

#[tokio::test]
async fn a_database_url_that_answers_is_used() {
    let server = testing::server().await.unwrap();
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| server.conninfo());
    let found = Locator::new()
        .database_url(Some(&url))
        .locate()
        .await
        .unwrap();
    assert_eq!(found.origin(), Origin::DatabaseUrl);
    assert!(found.cluster().is_none());
    let client = found.connect().await.unwrap();
    let row = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "postgres");
}
