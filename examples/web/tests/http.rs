//! The web example over real HTTP on loopback: the app is served on
//! `127.0.0.1:0` over a fresh database (the SaaS schema), the database is
//! reached as the application role (neither superuser nor owner), and
//! requests go through a socket. Tenant B, whatever ids it sends, can
//! neither read nor change tenant A's rows.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tenant_model::testing::TestDb;
use tenant_model::{Db, PoolTimeouts, TenantId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;
use web::auth::{Claims, Keys};

const SECRET: &[u8] = b"test-secret";

/// A served app, the test database behind it and two tenants' tokens.
struct Served {
    addr: SocketAddr,
    database: TestDb,
    a: String,
    b: String,
}

/// Serves `app(db)` on a loopback port.
async fn serve(db: Db) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let app = web::app(db, Keys::new(SECRET));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn token(tenant: Uuid) -> String {
    let claims = Claims::for_tenant(TenantId::from(tenant), "test", Duration::from_secs(300));
    Keys::new(SECRET).sign(&claims).expect("sign")
}

/// The app over a fresh database with tenants A and B (seeded by the
/// superuser; the app itself connects as the application role).
async fn served() -> Served {
    let database = TestDb::new(&web::models::schema())
        .await
        .expect("test database");
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    database
        .superuser()
        .await
        .expect("superuser")
        .execute(
            "INSERT INTO tenants (id, name, slug) VALUES ($1, 'Acme', 'acme'), ($2, 'Globex', 'globex')",
            &[&a, &b],
        )
        .await
        .expect("seed tenants");
    let db = Db::from_pool(database.app_pool(4));
    Served {
        addr: serve(db).await,
        database,
        a: token(a),
        b: token(b),
    }
}

/// One HTTP/1.1 request over a fresh loopback connection: the status and
/// the body as JSON (`Value::Null` when empty). Raw bytes on a socket, so
/// the whole server stack is exercised.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = auth {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("header end");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the tiny client reads sized bodies only: {head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
    };
    (status, json)
}

impl Served {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        send(self.addr, method, path, Some(token), body.as_deref()).await
    }

    /// Creates a resource as `token`; its id.
    async fn create(&self, path: &str, token: &str, body: Value) -> String {
        let (status, json) = self.call("POST", path, token, Some(body)).await;
        assert_eq!(status, 201, "{path}: {json}");
        json["id"].as_str().expect("id").to_owned()
    }
}

#[tokio::test]
async fn tenant_b_can_neither_read_nor_change_tenant_a_resources() {
    let s = served().await;
    let user = s
        .create(
            "/users",
            &s.a,
            json!({"email": "ann@acme.test", "full_name": "Ann"}),
        )
        .await;
    let org = s
        .create("/organizations", &s.a, json!({"name": "Acme HQ"}))
        .await;
    let team = s
        .create(
            "/teams",
            &s.a,
            json!({"organization_id": org, "name": "Red"}),
        )
        .await;
    let (status, _) = s
        .call(
            "POST",
            &format!("/teams/{team}/members"),
            &s.a,
            Some(json!({"user_id": user, "role": "admin"})),
        )
        .await;
    assert_eq!(status, 201);
    let paths = [
        format!("/users/{user}"),
        format!("/organizations/{org}"),
        format!("/teams/{team}"),
    ];

    // B's own rows, so that B's ids are real too.
    let b_user = s
        .create(
            "/users",
            &s.b,
            json!({"email": "bob@globex.test", "full_name": "Bob"}),
        )
        .await;
    let b_org = s
        .create("/organizations", &s.b, json!({"name": "Globex HQ"}))
        .await;
    let b_team = s
        .create(
            "/teams",
            &s.b,
            json!({"organization_id": b_org, "name": "Blue"}),
        )
        .await;

    let mut a_rows = Vec::new();
    for path in &paths {
        let (status, row) = s.call("GET", path, &s.a, None).await;
        assert_eq!(status, 200, "A reads its own {path}");
        a_rows.push(row);
        // B, with A's ids: not found, whatever it does.
        assert_eq!(s.call("GET", path, &s.b, None).await.0, 404, "B GET {path}");
        let patch = if path.starts_with("/users") {
            json!({"full_name": "pwned"})
        } else {
            json!({"name": "pwned"})
        };
        assert_eq!(
            s.call("PATCH", path, &s.b, Some(patch)).await.0,
            404,
            "B PATCH {path}"
        );
        assert_eq!(
            s.call("DELETE", path, &s.b, None).await.0,
            404,
            "B DELETE {path}"
        );
    }

    // B creating a team under A's organization: refused (403), exactly as
    // for an organization id that exists nowhere, so it learns nothing.
    let (status, under_a) = s
        .call(
            "POST",
            "/teams",
            &s.b,
            Some(json!({"organization_id": org, "name": "Trojan"})),
        )
        .await;
    assert_eq!(status, 403, "{under_a}");
    let (status, nowhere) = s
        .call(
            "POST",
            "/teams",
            &s.b,
            Some(json!({"organization_id": Uuid::now_v7(), "name": "Trojan"})),
        )
        .await;
    assert_eq!((status, &nowhere), (403, &under_a));

    // Memberships across tenants: A's team with B's user, B's team with A's user.
    let members = format!("/teams/{team}/members");
    let (status, _) = s
        .call("POST", &members, &s.b, Some(json!({"user_id": b_user})))
        .await;
    assert_eq!(status, 403, "B adds its user to A's team");
    let (status, _) = s
        .call(
            "POST",
            &format!("/teams/{b_team}/members"),
            &s.b,
            Some(json!({"user_id": user})),
        )
        .await;
    assert_eq!(status, 403, "B adds A's user to its team");

    // B's lists hold B's rows only; nothing of B's attempts was stored.
    for (path, id) in [
        ("/users", &b_user),
        ("/organizations", &b_org),
        ("/teams", &b_team),
    ] {
        let (status, list) = s.call("GET", path, &s.b, None).await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = list
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(ids, [id.as_str()], "B's {path}");
    }

    // A's rows are unchanged, checked through A.
    for (path, row) in paths.iter().zip(&a_rows) {
        assert_eq!(
            &s.call("GET", path, &s.a, None).await,
            &(200, row.clone()),
            "A's {path}"
        );
    }
    let (_, teams) = s.call("GET", "/teams", &s.a, None).await;
    assert_eq!(
        teams.as_array().map(Vec::len),
        Some(1),
        "A's teams: {teams}"
    );
    let su = s.database.superuser().await.expect("superuser");
    let links: i64 = su
        .query_one("SELECT count(*) FROM user_team_links", &[])
        .await
        .expect("count links")
        .get(0);
    assert_eq!(links, 1, "only A's own membership is stored");
}

#[tokio::test]
async fn missing_bad_or_expired_tokens_are_401() {
    let s = served().await;
    let tenant = TenantId::from(Uuid::now_v7());
    let expired = Claims {
        exp: 1_000_000,
        ..Claims::for_tenant(tenant, "old", Duration::ZERO)
    };
    let other_secret = Keys::new(b"not-the-secret")
        .sign(&Claims::for_tenant(tenant, "eve", Duration::from_secs(60)))
        .expect("sign");
    let no_tenant = {
        let mut claims = Claims::for_tenant(tenant, "eve", Duration::from_secs(60));
        claims.tenant_id = "acme' OR 1=1 --".to_owned();
        Keys::new(SECRET).sign(&claims).expect("sign")
    };
    let tokens = [
        Keys::new(SECRET).sign(&expired).expect("sign"),
        other_secret,
        no_tenant,
        "not.a.jwt".to_owned(),
    ];
    assert_eq!(
        send(s.addr, "GET", "/users", None, None).await.0,
        401,
        "no header"
    );
    for token in &tokens {
        for path in ["/users", "/organizations", "/teams"] {
            assert_eq!(
                send(s.addr, "GET", path, Some(token), None).await.0,
                401,
                "{token}"
            );
        }
        let body = json!({"email": "eve@evil.test", "full_name": "Eve"}).to_string();
        assert_eq!(
            send(s.addr, "POST", "/users", Some(token), Some(&body))
                .await
                .0,
            401
        );
    }
    let su = s.database.superuser().await.expect("superuser");
    let users: i64 = su
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(users, 0, "nothing was written without a valid token");
}

#[tokio::test]
async fn conflicts_and_bad_input_get_409_and_422() {
    let s = served().await;
    let ann = json!({"email": "ann@acme.test", "full_name": "Ann"});
    let user = s.create("/users", &s.a, ann.clone()).await;
    let (status, body) = s.call("POST", "/users", &s.a, Some(ann.clone())).await;
    assert_eq!(status, 409, "{body}");
    // The same email in another tenant is fine: unique per tenant.
    s.create("/users", &s.b, ann).await;

    let path = format!("/users/{user}");
    let bad = [
        ("POST", "/users", Some("{\"email\":")), // not JSON
        (
            "POST",
            "/users",
            Some("{\"email\": 42, \"full_name\": \"x\"}"),
        ), // wrong type
        ("POST", "/users", Some("{\"full_name\": \"x\"}")), // missing field
        ("PATCH", path.as_str(), Some("{}")),    // nothing to change
        ("GET", "/users/not-a-uuid", None),
        (
            "POST",
            "/organizations",
            Some(&*format!("{{\"name\": \"{}\"}}", "x".repeat(300))),
        ),
    ];
    for (method, path, body) in bad {
        let (status, json) = send(s.addr, method, path, Some(&s.a), body).await;
        assert_eq!(status, 422, "{method} {path} {body:?}: {json}");
    }
    let (status, _) = s
        .call("POST", "/teams", &s.a, Some(json!({"organization_id": Uuid::now_v7(), "name": "x", "tenant_id": Uuid::now_v7()})))
        .await;
    assert_eq!(status, 422, "a body cannot name a tenant");
}

#[tokio::test]
async fn an_unreachable_database_is_503() {
    // A port with nothing listening: bind, note it, close it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("app")
        .dbname("app");
    let timeouts = PoolTimeouts {
        wait: Duration::from_millis(500),
        create: Duration::from_millis(500),
        recycle: Duration::from_millis(500),
    };
    let db = Db::from_pool(Db::pool_with(config, 2, timeouts));
    let addr = serve(db).await;
    let a = token(Uuid::now_v7());
    for path in ["/users", "/organizations", "/teams"] {
        let (status, body) = send(addr, "GET", path, Some(&a), None).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"], "database unavailable, try again later");
    }
}
