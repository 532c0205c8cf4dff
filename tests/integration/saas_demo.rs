//! `cargo run --example saas` with no arguments: the demo's own code
//! (`examples/saas/demo/`), run here against the harness's server and
//! against a throwaway cluster, its output checked line by line.

use tenant_model::testing::{self, Locator, Server};

#[path = "../../examples/saas/demo/mod.rs"]
#[allow(dead_code)]
mod demo;

/// Runs the demo, returns its lines with the run's database name replaced
/// by `<db>`, after checking that the database and its roles are gone.
async fn run(server: &Server) -> Vec<String> {
    let mut out = demo::Output::capturing();
    demo::run(server, &mut out).await.expect("the demo runs");
    let lines = out.lines().to_vec();
    let name = lines
        .iter()
        .find_map(|l| l.strip_prefix("database: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the demo names its database")
        .to_owned();
    assert!(name.starts_with("tenant_model_demo_"), "{name}");
    let client = server.connect().await.expect("superuser connection");
    let left: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1::text) \
                  + (SELECT count(*) FROM pg_roles WHERE rolname LIKE $1::text || '%')",
            &[&name],
        )
        .await
        .expect("catalog query")
        .get(0);
    assert_eq!(left, 0, "the demo left its database {name} or roles behind");
    lines.iter().map(|l| l.replace(&name, "<db>")).collect()
}

fn has(lines: &[String], expected: &str) {
    assert!(
        lines.iter().any(|l| l == expected),
        "no line {expected:?} in:\n{}",
        lines.join("\n")
    );
}

fn has_prefix<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", lines.join("\n")))
}

/// What every run must show, wherever the server is.
fn check(lines: &[String]) {
    has(
        lines,
        "migrations: applied 20261203000000_init as the owner",
    );
    has(
        lines,
        "login roles: <db>_app (in tenant_model_app), <db>_admin (in tenant_model_admin)",
    );
    assert!(has_prefix(lines, "audit of 5 tables as <db>_app").ends_with(": no findings"));
    // Isolation: each tenant counts only its own rows.
    has(
        lines,
        "Acme sees 3 users, 2 organizations, 3 teams, 5 memberships: \
         ann@acme.test, bob@acme.test, cy@acme.test",
    );
    has(
        lines,
        "Globex sees 2 users, 1 organization, 1 team, 2 memberships: \
         dee@globex.test, eve@globex.test",
    );
    has(
        lines,
        "Globex looks up Acme's ann@acme.test by id: not found",
    );
    // JSONB.
    has(lines, "Acme: ann@acme.test, cy@acme.test");
    has(lines, "Globex: dee@globex.test");
    // Soft delete and restore.
    has(
        lines,
        "Acme soft-deletes bob@acme.test (by ann@acme.test): live users ann@acme.test, \
         cy@acme.test; soft-deleted bob@acme.test",
    );
    has(lines, "looking bob@acme.test up by id: hidden");
    has(
        lines,
        "Acme restores bob@acme.test: live users ann@acme.test, bob@acme.test, cy@acme.test",
    );
    // Eager loading, with each member's role from the link row.
    has(
        lines,
        "    Core: ann@acme.test (owner), bob@acme.test (member)",
    );
    has(
        lines,
        "    Lab: dee@globex.test (owner), eve@globex.test (member)",
    );
    has(
        lines,
        "admin (reason \"demo: count users across tenants\"): 5 users across 2 tenants",
    );
    // The rejected cross-tenant writes, with their typed errors.
    has_prefix(
        lines,
        "Globex adds Acme's ann@acme.test to its team Lab: rejected with \
         Error::ForeignKeyViolation: foreign key violation",
    );
    has(
        lines,
        "Globex renames Acme's ann@acme.test by id: rejected with Error::NotFound: \
         no users row matches the key",
    );
    has(lines, "Acme's ann@acme.test is unchanged: Ann Archer");
    // Readable: no Debug output.
    for line in lines {
        for debug in [
            "Some(",
            "None",
            "TenantId(",
            "Uuid(",
            "Record {",
            "Owner",
            "Member",
        ] {
            assert!(!line.contains(debug), "Debug text {debug:?} in {line:?}");
        }
    }
}

/// The sample output in the README's "Try it", every line of which the
/// demo prints (the database's name and the server's version vary).
fn check_readme_sample(lines: &[String]) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let sample = readme
        .split_once("Its output (abridged):\n\n```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(sample, _)| sample)
        .expect("the README shows the demo's output");
    for line in sample.lines().filter(|l| !l.is_empty()) {
        let line = line.replace("tenant_model_demo_1d248f76", "<db>");
        match line.strip_suffix(": no findings") {
            Some(audit) => {
                let (prefix, _version) = audit.split_once(" on PostgreSQL ").expect("version");
                assert!(has_prefix(lines, prefix).ends_with(": no findings"));
            }
            None => has(lines, &line),
        }
    }
}

#[tokio::test]
async fn the_demo_runs_twice_in_a_row_with_the_same_output() {
    let server = testing::server().await.expect("a PostgreSQL server");
    let first = run(server).await;
    check(&first);
    check_readme_sample(&first);
    let second = run(server).await;
    assert_eq!(first, second, "two runs print the same");
}

#[tokio::test]
async fn the_demo_runs_on_a_throwaway_cluster_when_no_server_runs() {
    // What TENANT_MODEL_SERVER=cluster, or a machine with no server, gives.
    let server = Locator::new()
        .localhost(None)
        .locate()
        .await
        .expect("a throwaway cluster from the local binaries");
    let lines = run(&server).await;
    assert!(
        has_prefix(&lines, "PostgreSQL: a throwaway cluster in ").ends_with(", stopped at exit")
    );
    check(&lines);
}
