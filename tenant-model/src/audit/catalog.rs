//! What the live catalog says about the model tables, their policies, the
//! views over them and the schema's roles. Read-only queries any role may
//! run.

use tokio_postgres::GenericClient;

use crate::error::Error;
use crate::model::record::decode;
use crate::schema::PolicyCommand;

/// A model table as the catalog holds it.
#[derive(Debug, Clone)]
pub(crate) struct LiveTable {
    /// Its oid; `None` when no such table exists.
    pub(crate) oid: Option<u32>,
    pub(crate) rls_enabled: bool,
    pub(crate) rls_forced: bool,
    /// Roles holding `TRUNCATE` on it, other than its owner (`PUBLIC` for
    /// a grant to everyone).
    pub(crate) truncate_grantees: Vec<String>,
}

/// The model tables, by name as the application's SQL resolves them
/// (the session's `search_path`), in the order given.
pub(crate) async fn tables(
    client: &impl GenericClient,
    names: &[&str],
) -> Result<Vec<LiveTable>, Error> {
    const SQL: &str = "\
SELECT c.oid, coalesce(c.relrowsecurity, false), coalesce(c.relforcerowsecurity, false),
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END
             FROM aclexplode(c.relacl) a
             WHERE a.privilege_type = 'TRUNCATE' AND a.grantee <> c.relowner
             ORDER BY 1)
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name)) AND c.relkind IN ('r', 'p')
ORDER BY t.n";
    let rows = client.query(SQL, &[&names]).await?;
    rows.iter()
        .map(|row| {
            Ok(LiveTable {
                oid: decode(row, 0)?,
                rls_enabled: decode(row, 1)?,
                rls_forced: decode(row, 2)?,
                truncate_grantees: decode(row, 3)?,
            })
        })
        .collect()
}

/// A row-level security policy as the catalog shows it: the columns of
/// `pg_policies`, its expressions deparsed by `pg_get_expr`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogPolicy {
    /// The policy's name.
    pub name: String,
    /// The command it applies to.
    pub command: PolicyCommand,
    /// `PERMISSIVE` (else `RESTRICTIVE`).
    pub permissive: bool,
    /// The roles it applies to, sorted; empty for `PUBLIC`.
    pub roles: Vec<String>,
    /// The `USING` expression, as the server deparses it.
    pub using: Option<String>,
    /// The `WITH CHECK` expression, as the server deparses it.
    pub with_check: Option<String>,
}

impl CatalogPolicy {
    /// Whether the two policies grant the same thing: everything but the
    /// name is equal.
    pub(crate) fn same_rule(&self, other: &CatalogPolicy) -> bool {
        self.command == other.command
            && self.permissive == other.permissive
            && self.roles == other.roles
            && self.using == other.using
            && self.with_check == other.with_check
    }
}

/// The policies on the tables with these oids: `(table oid, policy)`,
/// ordered by table and name.
pub(crate) async fn policies(
    client: &impl GenericClient,
    tables: &[u32],
) -> Result<Vec<(u32, CatalogPolicy)>, Error> {
    const SQL: &str = "\
SELECT p.polrelid, p.polname::text, p.polcmd::text, p.polpermissive,
       CASE WHEN p.polroles = '{0}'::oid[] THEN '{}'::text[]
            ELSE ARRAY(SELECT pg_get_userbyid(r)::text FROM unnest(p.polroles) AS r ORDER BY 1) END,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
WHERE p.polrelid = ANY($1::oid[])
ORDER BY p.polrelid, p.polname";
    let rows = client.query(SQL, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            let code: String = decode(row, 2)?;
            let mut roles: Vec<String> = decode(row, 4)?;
            roles.sort();
            let command = PolicyCommand::from_code(&code).ok_or_else(|| {
                Error::InvalidQuery(format!("unknown policy command {code:?} in pg_policy"))
            })?;
            Ok((
                decode(row, 0)?,
                CatalogPolicy {
                    name: decode(row, 1)?,
                    command,
                    permissive: decode(row, 3)?,
                    roles,
                    using: decode(row, 5)?,
                    with_check: decode(row, 6)?,
                },
            ))
        })
        .collect()
}

/// A view or materialized view that reads tenant tables (directly or
/// through other views) without the reader's row-level security: a view
/// runs as its owner unless it is `security_invoker` (PostgreSQL 15), and
/// a materialized view stores what its owner could see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsafeView {
    /// The view, as `regclass` prints it.
    pub view: String,
    /// A materialized view (which `security_invoker` cannot fix).
    pub materialized: bool,
    /// The tenant tables it reads, sorted.
    pub over: Vec<String>,
}

/// Views and materialized views over the tables with these oids, followed
/// through views of views, that do not run as the invoker.
pub(crate) async fn unsafe_views(
    client: &impl GenericClient,
    tables: &[u32],
) -> Result<Vec<UnsafeView>, Error> {
    const SQL: &str = "\
WITH RECURSIVE reads(oid, base) AS (
    SELECT c.oid, c.oid FROM pg_class c WHERE c.oid = ANY($1::oid[])
  UNION
    SELECT r.ev_class, reads.base
    FROM reads
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = reads.oid
                    AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> reads.oid
)
SELECT v.oid::regclass::text, v.relkind = 'm',
       array_agg(DISTINCT reads.base::regclass::text ORDER BY reads.base::regclass::text)
FROM reads
JOIN pg_class v ON v.oid = reads.oid
WHERE v.relkind = 'm'
   OR (v.relkind = 'v' AND NOT coalesce(
         (SELECT o.option_value::boolean FROM pg_options_to_table(v.reloptions) AS o
          WHERE o.option_name = 'security_invoker'), false))
GROUP BY v.oid, v.relkind
ORDER BY 1";
    let rows = client.query(SQL, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            Ok(UnsafeView {
                view: decode(row, 0)?,
                materialized: decode(row, 1)?,
                over: decode(row, 2)?,
            })
        })
        .collect()
}

/// One of the schema's group roles (application, admin) as the catalog
/// holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupRole {
    /// The role's name.
    pub name: String,
    /// Whether it exists.
    pub exists: bool,
    /// `SUPERUSER`.
    pub superuser: bool,
    /// `BYPASSRLS`.
    pub bypass_rls: bool,
}

/// The roles with these names, in the order given.
pub(crate) async fn group_roles(
    client: &impl GenericClient,
    names: &[&str],
) -> Result<Vec<GroupRole>, Error> {
    const SQL: &str = "\
SELECT g.name, r.oid IS NOT NULL, coalesce(r.rolsuper, false), coalesce(r.rolbypassrls, false)
FROM unnest($1::text[]) WITH ORDINALITY AS g(name, n)
LEFT JOIN pg_roles r ON r.rolname = g.name
ORDER BY g.n";
    let rows = client.query(SQL, &[&names]).await?;
    rows.iter()
        .map(|row| {
            Ok(GroupRole {
                name: decode(row, 0)?,
                exists: decode(row, 1)?,
                superuser: decode(row, 2)?,
                bypass_rls: decode(row, 3)?,
            })
        })
        .collect()
}

/// The server's version: `server_version_num` and `server_version`.
pub(crate) async fn server_version(client: &impl GenericClient) -> Result<(i32, String), Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int4, current_setting('server_version')",
            &[],
        )
        .await?;
    Ok((decode(&row, 0)?, decode(&row, 1)?))
}
