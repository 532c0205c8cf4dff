//! The query builder against real rows, as the app role.

use futures_util::TryStreamExt;
use tenant_model::Model;
use tenant_model::{Executor, Filter};

use crate::extra::Note;
use crate::models::User;
use crate::support::{app_db, seeded, user};

/// Tenant A with users u0..u9 (u0..u4 inactive, odd ones with a password,
/// u7 with the dark theme) besides the seeded Ann.
async fn ten_users() -> (crate::support::Seed, tenant_model::Db) {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let users: Vec<User> = (0..10)
        .map(|i| {
            let mut u = user(&format!("u{i}@acme.test"));
            u.is_active = i >= 5;
            u.hashed_password = (i % 2 == 1).then(|| format!("hash{i}"));
            if i == 7 {
                u.preferences = serde_json::json!({"theme": "dark", "language": "fr"});
            }
            u
        })
        .collect();
    db.tenant(seed.tenant_a).insert_many(&users).await.unwrap();
    (seed, db)
}

fn emails(rows: &[tenant_model::Record<User>]) -> Vec<&str> {
    rows.iter().map(|u| u.email.as_str()).collect()
}

#[tokio::test]
async fn comparison_filters() {
    let (seed, db) = ten_users().await;
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let by = async |f: Filter<User>, tx: &mut tenant_model::Tx| {
        let rows = User::query()
            .filter(f)
            .order_by(User::EMAIL.asc())
            .all(tx)
            .await
            .unwrap();
        rows.iter().map(|u| u.email.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        by(User::EMAIL.eq("u3@acme.test"), &mut tx).await,
        ["u3@acme.test"]
    );
    assert_eq!(by(User::EMAIL.ne("ann@acme.test"), &mut tx).await.len(), 10);
    assert_eq!(
        by(User::EMAIL.lt("u2@acme.test"), &mut tx).await,
        ["ann@acme.test", "u0@acme.test", "u1@acme.test"]
    );
    assert_eq!(by(User::EMAIL.le("u1@acme.test"), &mut tx).await.len(), 3);
    assert_eq!(
        by(User::EMAIL.gt("u8@acme.test"), &mut tx).await,
        ["u9@acme.test"]
    );
    assert_eq!(
        by(User::EMAIL.ge("u8@acme.test"), &mut tx).await,
        ["u8@acme.test", "u9@acme.test"]
    );
    assert_eq!(
        by(
            User::EMAIL.is_in(["u1@acme.test", "u4@acme.test", "nobody@acme.test"]),
            &mut tx
        )
        .await,
        ["u1@acme.test", "u4@acme.test"]
    );
    assert_eq!(by(User::EMAIL.like("u1%"), &mut tx).await, ["u1@acme.test"]);
    assert_eq!(
        by(User::EMAIL.ilike("U1%"), &mut tx).await,
        ["u1@acme.test"]
    );
    assert_eq!(by(User::HASHED_PASSWORD.is_null(), &mut tx).await.len(), 6);
    assert_eq!(
        by(User::HASHED_PASSWORD.is_not_null(), &mut tx).await.len(),
        5
    );
    assert_eq!(
        by(User::HASHED_PASSWORD.eq("hash3"), &mut tx).await,
        ["u3@acme.test"]
    );
    let active_with_password = User::IS_ACTIVE
        .eq(true)
        .and(User::HASHED_PASSWORD.is_not_null());
    assert_eq!(
        by(active_with_password, &mut tx).await,
        ["u5@acme.test", "u7@acme.test", "u9@acme.test"]
    );
    let either = User::EMAIL
        .eq("u0@acme.test")
        .or(User::EMAIL.eq("u9@acme.test"));
    assert_eq!(by(either, &mut tx).await, ["u0@acme.test", "u9@acme.test"]);
    assert_eq!(by(!User::IS_ACTIVE.eq(true), &mut tx).await.len(), 5);
    let raw = Filter::sql(
        "lower(email) = lower($1)",
        vec![Box::new("U2@ACME.TEST".to_owned())],
    );
    assert_eq!(by(raw, &mut tx).await, ["u2@acme.test"]);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn jsonb_filters() {
    let (seed, db) = ten_users().await;
    let scope = || db.tenant(seed.tenant_a);
    let dark = User::query()
        .filter(User::PREFERENCES.get_text("theme").eq("dark"))
        .all(&mut scope())
        .await
        .unwrap();
    assert_eq!(emails(&dark), ["u7@acme.test"]);
    let fr = User::query()
        .filter(User::PREFERENCES.contains(serde_json::json!({"language": "fr"})))
        .count(&mut scope())
        .await
        .unwrap();
    assert_eq!(fr, 1);
    let with_theme = User::query()
        .filter(User::PREFERENCES.has_key("theme"))
        .count(&mut scope())
        .await
        .unwrap();
    assert_eq!(with_theme, 11);
    let none = User::query()
        .filter(User::METADATA.get_text("missing").is_null())
        .count(&mut scope())
        .await
        .unwrap();
    assert_eq!(none, 11);
}

#[tokio::test]
async fn order_limit_offset_count_exists() {
    let (seed, db) = ten_users().await;
    let scope = || db.tenant(seed.tenant_a);
    let page = User::query()
        .filter(User::EMAIL.like("u%"))
        .order_by(User::EMAIL.desc())
        .limit(3)
        .offset(2)
        .all(&mut scope())
        .await
        .unwrap();
    assert_eq!(
        emails(&page),
        ["u7@acme.test", "u6@acme.test", "u5@acme.test"]
    );
    assert_eq!(User::query().count(&mut scope()).await.unwrap(), 11);
    assert!(User::query()
        .filter(User::EMAIL.eq("u5@acme.test"))
        .exists(&mut scope())
        .await
        .unwrap());
    assert!(!User::query()
        .filter(User::EMAIL.eq("bob@globex.test"))
        .exists(&mut scope())
        .await
        .unwrap());
    let first = User::query()
        .order_by(User::EMAIL.asc())
        .first(&mut scope())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.email, "ann@acme.test");
}

#[tokio::test]
async fn keyset_pagination_walks_every_row_once() {
    let (seed, db) = ten_users().await;
    let mut scope = db.tenant(seed.tenant_a);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = User::query()
            .after(User::EMAIL.asc(), cursor.take())
            .limit(4)
            .all(&mut scope)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some((last.email.clone(), last.id));
        seen.extend(page.iter().map(|u| u.email.clone()));
    }
    let mut expected: Vec<String> = (0..10).map(|i| format!("u{i}@acme.test")).collect();
    expected.insert(0, "ann@acme.test".into());
    assert_eq!(seen, expected);

    // Descending, with ties on the sort column broken by the key.
    let newest = User::query()
        .after(User::CREATED_AT.desc(), None)
        .limit(11)
        .all(&mut scope)
        .await
        .unwrap();
    let (t, id) = (newest[4].created_at(), newest[4].id);
    let rest = User::query()
        .after(User::CREATED_AT.desc(), Some((t, id)))
        .all(&mut scope)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|u| u.id).collect::<Vec<_>>(),
        newest[5..].iter().map(|u| u.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_injection_string_is_just_a_value() {
    let (seed, db) = ten_users().await;
    let scope = || db.tenant(seed.tenant_a);
    for evil in [
        "' OR '1'='1",
        "x'; DELETE FROM users; --",
        "%' OR tenant_id IS NOT NULL --",
    ] {
        let rows = User::query()
            .filter(User::EMAIL.eq(evil))
            .all(&mut scope())
            .await
            .unwrap();
        assert!(rows.is_empty(), "{evil}");
        let rows = User::query()
            .filter(User::EMAIL.like(evil))
            .all(&mut scope())
            .await
            .unwrap();
        assert!(rows.is_empty(), "{evil}");
        let rows = User::query()
            .filter(User::PREFERENCES.get_text(evil).eq(evil))
            .all(&mut scope())
            .await
            .unwrap();
        assert!(rows.is_empty(), "{evil}");
    }
    assert_eq!(
        User::query().count(&mut scope()).await.unwrap(),
        11,
        "nothing was deleted"
    );
}

#[tokio::test]
async fn streaming_reads_in_batches_inside_the_transaction() {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let notes: Vec<Note> = (0..2_500).map(|i| Note::new(&format!("n{i:05}"))).collect();
    db.tenant(seed.tenant_a).insert_many(&notes).await.unwrap();
    db.tenant(seed.tenant_b)
        .insert_many(
            &notes[..10]
                .iter()
                .map(|n| Note {
                    id: uuid::Uuid::now_v7(),
                    ..n.clone()
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();

    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let mut count = 0;
    let mut last = String::new();
    {
        let mut stream = std::pin::pin!(Note::query()
            .order_by(Note::TITLE.asc())
            .stream(&mut tx, 300));
        while let Some(note) = stream.try_next().await.unwrap() {
            assert!(note.title > last, "in order");
            last = note.title.clone();
            count += 1;
        }
    }
    assert_eq!(count, 2_500, "every row of this tenant, none of the other");
    // The cursor is closed and the transaction still usable.
    let n = Note::query().count(&mut tx).await.unwrap();
    assert_eq!(n, 2_500);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn to_sql_shows_the_tenant_filter_and_placeholders() {
    let tenant = tenant_model::TenantId::from(uuid::Uuid::nil());
    let sql = User::query()
        .filter(User::EMAIL.eq("x"))
        .order_by(User::CREATED_AT.desc())
        .limit(5)
        .to_sql(Some(tenant))
        .unwrap();
    assert!(
        sql.contains("FROM users WHERE tenant_id = $1 AND NOT is_deleted AND (email = $2)"),
        "{sql}"
    );
    assert!(sql.ends_with("ORDER BY created_at DESC LIMIT $3"), "{sql}");
}

#[tokio::test]
async fn enum_columns_filter_by_value_and_by_list() {
    use crate::models::{Organization, Team, UserRole, UserTeamLink};
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let mut tx = db.tenant(seed.tenant_a).begin().await.unwrap();
    let org = tx
        .insert(Organization {
            id: uuid::Uuid::now_v7(),
            name: "O".into(),
        })
        .await
        .unwrap();
    let mut teams = Vec::new();
    for (i, role) in [UserRole::Owner, UserRole::Admin, UserRole::Guest]
        .into_iter()
        .enumerate()
    {
        let team = tx
            .insert(Team {
                id: uuid::Uuid::now_v7(),
                organization_id: org.id,
                name: format!("t{i}"),
            })
            .await
            .unwrap();
        tx.insert(UserTeamLink {
            user_id: seed.user_a,
            team_id: team.id,
            role,
        })
        .await
        .unwrap();
        teams.push(team.id);
    }
    let admins = UserTeamLink::query()
        .filter(UserTeamLink::ROLE.eq(UserRole::Admin))
        .all(&mut tx)
        .await
        .unwrap();
    assert_eq!(
        admins.iter().map(|l| l.team_id).collect::<Vec<_>>(),
        [teams[1]]
    );
    let managers = UserTeamLink::query()
        .filter(UserTeamLink::ROLE.is_in([UserRole::Owner, UserRole::Admin]))
        .count(&mut tx)
        .await
        .unwrap();
    assert_eq!(managers, 2);
    let not_guest = UserTeamLink::query()
        .filter(UserTeamLink::ROLE.ne(UserRole::Guest))
        .count(&mut tx)
        .await
        .unwrap();
    assert_eq!(not_guest, 2);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_raw_filter_placeholder_without_a_parameter_is_an_error_not_the_tenant() {
    let (seed, db) = ten_users().await;
    let mut scope = db.tenant(seed.tenant_a);
    // `$1` of the query is the tenant filter's parameter: a fragment that
    // names `$1` without a parameter of its own must not compare with it.
    let stray = Filter::sql("tenant_id = $1", vec![]);
    let err = User::query()
        .filter(stray)
        .all(&mut scope)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, tenant_model::Error::InvalidQuery(m) if m.contains("$1")),
        "{err}"
    );
    let beyond = Filter::sql("email = $2", vec![Box::new("u1@acme.test".to_owned())]);
    let err = User::query()
        .filter(beyond)
        .count(&mut scope)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, tenant_model::Error::InvalidQuery(m) if m.contains("$2")),
        "{err}"
    );
}

#[tokio::test]
async fn a_placeholder_inside_a_raw_filter_literal_is_text() {
    let (seed, db) = ten_users().await;
    let mut named = user("dollar@acme.test");
    named.full_name = "$1".to_owned();
    db.tenant(seed.tenant_a).insert(named).await.unwrap();
    let mut scope = db.tenant(seed.tenant_a);
    let raw = Filter::sql(
        "full_name = '$1' /* $1 */ OR email = $1",
        vec![Box::new("u4@acme.test".to_owned())],
    );
    let rows = User::query()
        .filter(raw)
        .order_by(User::EMAIL.asc())
        .all(&mut scope)
        .await
        .unwrap();
    assert_eq!(emails(&rows), ["dollar@acme.test", "u4@acme.test"]);
    let sql = User::query()
        .filter(Filter::sql(
            "full_name = '$1' OR email = $1",
            vec![Box::new(String::new())],
        ))
        .to_sql(Some(seed.tenant_a.into()))
        .unwrap();
    assert!(
        sql.contains("(full_name = '$1' OR email = $2)"),
        "only the placeholder is renumbered: {sql}"
    );
}

/// Nine notes of tenant A: `body` with NULLs and duplicates, `priority`
/// with duplicates.
async fn notes_with_nulls_and_ties() -> (crate::support::Seed, tenant_model::Db) {
    let seed = seeded().await;
    let db = app_db(&seed.db, 2);
    let bodies = [
        None,
        Some("a"),
        Some("b"),
        None,
        Some("a"),
        Some("c"),
        None,
        Some("b"),
        Some("a"),
    ];
    let notes: Vec<Note> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut note = Note::new(&format!("n{i}"));
            note.body = body.map(str::to_owned);
            note.priority = [1, 2, 1, 3, 2, 1, 1, 3, 2][i];
            note
        })
        .collect();
    db.tenant(seed.tenant_a).insert_many(&notes).await.unwrap();
    (seed, db)
}

/// Pages through notes with `after(order(), ...)` `size` rows at a time;
/// the ids in the order seen.
async fn walk<T>(
    scope: &mut tenant_model::TenantScope,
    order: impl Fn() -> tenant_model::Order<Note, T>,
    cursor_of: impl Fn(&tenant_model::Record<Note>) -> T,
    size: i64,
) -> Vec<uuid::Uuid>
where
    T: tenant_model::Operand + tokio_postgres::types::ToSql + Send + Sync + 'static,
{
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let page = Note::query()
            .after(order(), cursor.take())
            .limit(size)
            .all(&mut *scope)
            .await
            .unwrap();
        assert!(page.len() as i64 <= size);
        let Some(last) = page.last() else {
            return seen;
        };
        cursor = Some((cursor_of(last), last.id));
        seen.extend(page.iter().map(|n| n.id));
    }
    panic!("paging does not end: {seen:?}");
}

/// The ids of all notes in one query's `ORDER BY first, then`.
async fn in_order<T, K>(
    scope: &mut tenant_model::TenantScope,
    first: tenant_model::Order<Note, T>,
    then: tenant_model::Order<Note, K>,
) -> Vec<uuid::Uuid> {
    let rows = Note::query()
        .order_by(first)
        .order_by(then)
        .all(scope)
        .await
        .unwrap();
    rows.iter().map(|n| n.id).collect()
}

#[tokio::test]
async fn keyset_pagination_with_nulls_and_ties_sees_every_row_once() {
    let (seed, db) = notes_with_nulls_and_ties().await;
    let mut scope = db.tenant(seed.tenant_a);
    // PostgreSQL's order: NULLs last ascending, first descending; ties by key.
    let body_asc = in_order(&mut scope, Note::BODY.asc(), Note::ID.asc()).await;
    let body_desc = in_order(&mut scope, Note::BODY.desc(), Note::ID.desc()).await;
    let prio_asc = in_order(&mut scope, Note::PRIORITY.asc(), Note::ID.asc()).await;
    let prio_desc = in_order(&mut scope, Note::PRIORITY.desc(), Note::ID.desc()).await;
    assert_eq!(body_asc.len(), 9);
    for size in [1, 2, 3] {
        let body = |n: &tenant_model::Record<Note>| n.body.clone();
        let priority = |n: &tenant_model::Record<Note>| n.priority;
        assert_eq!(
            walk(&mut scope, || Note::BODY.asc(), body, size).await,
            body_asc,
            "body asc, pages of {size}"
        );
        assert_eq!(
            walk(&mut scope, || Note::BODY.desc(), body, size).await,
            body_desc,
            "body desc, pages of {size}"
        );
        assert_eq!(
            walk(&mut scope, || Note::PRIORITY.asc(), priority, size).await,
            prio_asc,
            "priority asc, pages of {size}"
        );
        assert_eq!(
            walk(&mut scope, || Note::PRIORITY.desc(), priority, size).await,
            prio_desc,
            "priority desc, pages of {size}"
        );
    }
}

#[tokio::test]
async fn keyset_pagination_cannot_be_combined_with_order_by() {
    let (seed, db) = notes_with_nulls_and_ties().await;
    let mut scope = db.tenant(seed.tenant_a);
    let before = Note::query()
        .order_by(Note::TITLE.asc())
        .after(Note::PRIORITY.asc(), None)
        .limit(2)
        .all(&mut scope)
        .await
        .unwrap_err();
    assert!(
        matches!(&before, tenant_model::Error::InvalidQuery(m) if m.contains("order_by")),
        "{before}"
    );
    let after = Note::query()
        .after(Note::PRIORITY.asc(), None)
        .order_by(Note::TITLE.asc())
        .all(&mut scope)
        .await
        .unwrap_err();
    assert!(
        matches!(after, tenant_model::Error::InvalidQuery(_)),
        "{after}"
    );
}
