//! The queries behind [`Catalog::read`]: read-only, over `pg_catalog`.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use super::{
    Catalog, CatalogColumn, CatalogConstraint, CatalogFunction, CatalogIndex, CatalogTable,
    CatalogTrigger, ConstraintType, Grant,
};
use crate::error::Error;
use crate::migrate::LEDGER_TABLE;
use crate::model::record::decode;
use crate::sql::sql_text::ident;

/// `NOT EXISTS` an extension membership of the object `$oid` of catalog `$cat`.
macro_rules! not_extension {
    ($cat:literal, $oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '",
            $cat,
            "'::regclass AND d.objid = ",
            $oid,
            " AND d.deptype = 'e')"
        )
    };
}

impl Catalog {
    /// Reads `namespace` (e.g. `"public"`) from the catalog.
    ///
    /// Runs in a transaction of its own (rolled back: nothing is changed)
    /// with `search_path` set to `namespace`, so that names in it come out
    /// unqualified. Call it on a connection that is not inside a
    /// transaction.
    ///
    /// # Errors
    ///
    /// A database error, or [`Error::InvalidQuery`] when the namespace
    /// does not exist.
    ///
    /// ```no_run
    /// # async fn f(client: &tokio_postgres::Client) -> Result<(), tenant_model::Error> {
    /// use tenant_model::migrate::Catalog;
    ///
    /// let before = Catalog::read(client, "public").await?;
    /// // ... apply a migration, then its down migration ...
    /// assert_eq!(Catalog::read(client, "public").await?, before);
    /// # Ok(()) }
    /// ```
    pub async fn read(client: &Client, namespace: &str) -> Result<Catalog, Error> {
        client.batch_execute("BEGIN READ ONLY").await?;
        let read = async {
            set_search_path(client, namespace).await?;
            read_namespace(client, namespace).await
        }
        .await;
        let rollback = client.batch_execute("ROLLBACK").await;
        let catalog = read?;
        rollback?;
        Ok(catalog)
    }
}

/// `SET LOCAL search_path` to `namespace` alone.
pub(crate) async fn set_search_path(client: &Client, namespace: &str) -> Result<(), Error> {
    client
        .batch_execute(&format!("SET LOCAL search_path = {}", ident(namespace)))
        .await?;
    Ok(())
}

/// Reads `namespace`; the caller has put it on the `search_path`.
pub(crate) async fn read_namespace(client: &Client, namespace: &str) -> Result<Catalog, Error> {
    let row = client
        .query_opt(
            "SELECT oid FROM pg_namespace WHERE nspname = $1",
            &[&namespace],
        )
        .await?
        .ok_or_else(|| Error::InvalidQuery(format!("there is no schema {namespace:?}")))?;
    let ns: u32 = decode(&row, 0)?;
    let mut tables = tables(client, ns).await?;
    let oids: Vec<u32> = tables.keys().copied().collect();
    for (oid, column) in columns(client, ns, &oids).await? {
        push(&mut tables, oid, |t| t.columns.push(column));
    }
    for (oid, constraint) in constraints(client, &oids).await? {
        push(&mut tables, oid, |t| t.constraints.push(constraint));
    }
    for (oid, index) in indexes(client, &oids).await? {
        push(&mut tables, oid, |t| t.indexes.push(index));
    }
    for (oid, policy) in crate::audit::catalog::policies(client, &oids).await? {
        push(&mut tables, oid, |t| t.policies.push(policy));
    }
    for (oid, grant) in grants(client, &oids).await? {
        push(&mut tables, oid, |t| t.grants.push(grant));
    }
    for (oid, trigger) in triggers(client, &oids).await? {
        push(&mut tables, oid, |t| t.triggers.push(trigger));
    }
    let mut catalog = Catalog {
        tables: BTreeMap::new(),
        enums: enums(client, ns).await?,
        functions: functions(client, ns).await?,
        others: others(client, ns).await?,
    };
    for (_, mut table) in tables {
        table.grants.sort();
        catalog.tables.insert(table.name.clone(), table);
    }
    Ok(catalog)
}

fn push(tables: &mut BTreeMap<u32, CatalogTable>, oid: u32, f: impl FnOnce(&mut CatalogTable)) {
    if let Some(table) = tables.get_mut(&oid) {
        f(table);
    }
}

async fn tables(client: &Client, ns: u32) -> Result<BTreeMap<u32, CatalogTable>, Error> {
    let sql = concat!(
        "SELECT c.oid, c.relname::text, c.relrowsecurity, c.relforcerowsecurity, ",
        "obj_description(c.oid, 'pg_class') ",
        "FROM pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'p') ",
        "AND c.relname <> $2 AND NOT c.relispartition AND ",
        not_extension!("pg_class", "c.oid")
    );
    let rows = client.query(sql, &[&ns, &LEDGER_TABLE]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                decode(row, 0)?,
                CatalogTable {
                    rls_enabled: decode(row, 2)?,
                    rls_forced: decode(row, 3)?,
                    comment: decode(row, 4)?,
                    ..CatalogTable::empty(decode(row, 1)?)
                },
            ))
        })
        .collect()
}

async fn columns(
    client: &Client,
    ns: u32,
    tables: &[u32],
) -> Result<Vec<(u32, CatalogColumn)>, Error> {
    const SQL: &str = "\
SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN e.typtype = 'e' AND e.typnamespace = $2 THEN e.typname::text END,
       CASE WHEN a.attidentity <> '' THEN 'an identity column'
            WHEN a.attgenerated <> '' THEN 'a generated column'
            WHEN e.typtype NOT IN ('b', 'e') THEN 'of a type autogenerate does not map (' || format_type(a.atttypid, a.atttypmod) || ')'
       END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type e ON e.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";
    let rows = client.query(SQL, &[&tables, &ns]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                decode(row, 0)?,
                CatalogColumn {
                    name: decode(row, 1)?,
                    sql_type: decode(row, 2)?,
                    nullable: decode(row, 3)?,
                    default: decode(row, 4)?,
                    enum_type: decode(row, 5)?,
                    unmanaged: decode(row, 6)?,
                },
            ))
        })
        .collect()
}

async fn constraints(
    client: &Client,
    tables: &[u32],
) -> Result<Vec<(u32, CatalogConstraint)>, Error> {
    const SQL: &str = "\
SELECT con.conrelid, con.conname::text, con.contype::text, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       (SELECT r.relname::text FROM pg_class r WHERE r.oid = con.confrelid)
FROM pg_constraint con
WHERE con.conrelid = ANY($1::oid[]) AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY con.conrelid, con.conname";
    let rows = client.query(SQL, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            let code: String = decode(row, 2)?;
            let kind = match code.as_str() {
                "p" => ConstraintType::PrimaryKey,
                "u" => ConstraintType::Unique,
                "f" => ConstraintType::ForeignKey,
                "c" => ConstraintType::Check,
                _ => ConstraintType::Exclusion,
            };
            Ok((
                decode(row, 0)?,
                CatalogConstraint {
                    name: decode(row, 1)?,
                    kind,
                    definition: decode(row, 3)?,
                    columns: decode(row, 4)?,
                    references: decode(row, 5)?,
                },
            ))
        })
        .collect()
}

/// `' ON <schema>.<table> '` replaced by `' ON <table> '` in a definition.
const UNQUALIFY: &str = "replace(%s, ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(tc.relname) || ' ', ' ON ' || quote_ident(tc.relname) || ' ')";

async fn indexes(client: &Client, tables: &[u32]) -> Result<Vec<(u32, CatalogIndex)>, Error> {
    let sql = format!(
        "SELECT i.indrelid, ic.relname::text, i.indisunique, {}
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
WHERE i.indrelid = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid
                  AND c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname",
        UNQUALIFY.replace("%s", "pg_get_indexdef(i.indexrelid)")
    );
    let rows = client.query(&sql, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                decode(row, 0)?,
                CatalogIndex {
                    name: decode(row, 1)?,
                    unique: decode(row, 2)?,
                    definition: decode(row, 3)?,
                },
            ))
        })
        .collect()
}

async fn grants(client: &Client, tables: &[u32]) -> Result<Vec<(u32, Grant)>, Error> {
    const SQL: &str = "\
SELECT c.oid, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
       a.privilege_type, NULL::text, a.is_grantable
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = ANY($1::oid[]) AND a.grantee <> c.relowner
UNION ALL
SELECT c.oid, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
       a.privilege_type, att.attname::text, a.is_grantable
FROM pg_class c
JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped,
     aclexplode(att.attacl) a
WHERE c.oid = ANY($1::oid[]) AND a.grantee <> c.relowner";
    let rows = client.query(SQL, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                decode(row, 0)?,
                Grant {
                    grantee: decode(row, 1)?,
                    privilege: decode(row, 2)?,
                    column: decode(row, 3)?,
                    grantable: decode(row, 4)?,
                },
            ))
        })
        .collect()
}

async fn triggers(client: &Client, tables: &[u32]) -> Result<Vec<(u32, CatalogTrigger)>, Error> {
    let sql = format!(
        "SELECT t.tgrelid, t.tgname::text, p.proname::text, {}, t.tgenabled <> 'D'
FROM pg_trigger t
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_class tc ON tc.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
WHERE t.tgrelid = ANY($1::oid[]) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname",
        UNQUALIFY.replace("%s", "pg_get_triggerdef(t.oid)")
    );
    let rows = client.query(&sql, &[&tables]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                decode(row, 0)?,
                CatalogTrigger {
                    name: decode(row, 1)?,
                    function: decode(row, 2)?,
                    definition: decode(row, 3)?,
                    enabled: decode(row, 4)?,
                },
            ))
        })
        .collect()
}

async fn enums(client: &Client, ns: u32) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let sql = concat!(
        "SELECT t.typname::text, ARRAY(SELECT e.enumlabel::text FROM pg_enum e ",
        "WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) ",
        "FROM pg_type t WHERE t.typnamespace = $1 AND t.typtype = 'e' AND ",
        not_extension!("pg_type", "t.oid")
    );
    let rows = client.query(sql, &[&ns]).await?;
    rows.iter()
        .map(|row| Ok((decode(row, 0)?, decode(row, 1)?)))
        .collect()
}

async fn functions(client: &Client, ns: u32) -> Result<BTreeMap<String, CatalogFunction>, Error> {
    let sql = concat!(
        "SELECT p.proname::text, pg_get_function_identity_arguments(p.oid), ",
        "replace(replace(pg_get_functiondef(p.oid), ",
        "'FUNCTION ' || quote_ident(n.nspname) || '.', 'FUNCTION '), ",
        "'PROCEDURE ' || quote_ident(n.nspname) || '.', 'PROCEDURE ') ",
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace ",
        "WHERE p.pronamespace = $1 AND p.prokind IN ('f', 'p') AND ",
        not_extension!("pg_proc", "p.oid")
    );
    let rows = client.query(sql, &[&ns]).await?;
    rows.iter()
        .map(|row| {
            let name: String = decode(row, 0)?;
            let args: String = decode(row, 1)?;
            let definition: String = decode(row, 2)?;
            Ok((
                format!("{name}({args})"),
                CatalogFunction {
                    name,
                    definition: definition.trim_end().to_owned(),
                },
            ))
        })
        .collect()
}

async fn others(client: &Client, ns: u32) -> Result<Vec<String>, Error> {
    let sql = concat!(
        "SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ",
        "WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table ' ELSE 'relation ' END ",
        "|| quote_ident(c.relname) ",
        "FROM pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('v', 'm', 'S', 'f') ",
        "AND NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass ",
        "AND o.objid = c.oid AND o.deptype IN ('a', 'i') AND o.refobjsubid > 0) AND ",
        not_extension!("pg_class", "c.oid"),
        " ORDER BY 1"
    );
    let rows = client.query(sql, &[&ns]).await?;
    rows.iter().map(|row| decode(row, 0)).collect()
}
