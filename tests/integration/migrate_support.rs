//! Support for the migration tests: an empty database of their own, a
//! snapshot of the schema's catalog, the ledger's rows, and migration
//! folders written to a temp dir.

use std::path::{Path, PathBuf};

use tenant_model::testing::Server;
use tokio_postgres::{Client, NoTls};

/// An empty database (no schema, no harness roles): migrations start from
/// nothing. Dropped by [`FreshDb::close`]; a failed test leaves it behind
/// for inspection.
pub struct FreshDb {
    pub name: String,
    server: &'static Server,
}

impl FreshDb {
    pub async fn new() -> FreshDb {
        let server = tenant_model::testing::server()
            .await
            .expect("a PostgreSQL server");
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("tm_migrate_{}", &suffix[..12]);
        server
            .connect()
            .await
            .expect("maintenance connection")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the database");
        FreshDb { name, server }
    }

    /// A new superuser (owner) connection to it.
    pub async fn client(&self) -> Client {
        let (client, connection) = self
            .server
            .database_config(&self.name)
            .connect(NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    }

    /// A libpq connection string for it (what `DATABASE_URL` would hold).
    pub fn url(&self) -> String {
        self.server
            .conninfo()
            .replace("dbname=postgres", &format!("dbname={}", self.name))
    }

    pub async fn close(self) {
        self.server
            .connect()
            .await
            .expect("maintenance connection")
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .expect("drop the database");
    }
}

/// The schema of `public` as sorted lines: tables (with row-level security
/// flags and grants), columns, indexes, constraints, policies, types,
/// functions and triggers. The ledger table is left out: the ledger is
/// compared on its own ([`ledger`]).
pub async fn catalog(client: &Client) -> Vec<String> {
    const SQL: &str = r#"
        SELECT 'table ' || c.relname || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity
               || ' force=' || c.relforcerowsecurity || ' acl=' || coalesce(c.relacl::text, '')
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relname <> 'tenant_model_migrations'
        UNION ALL
        SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'tenant_model_migrations'
        UNION ALL
        SELECT 'index ' || pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> 'tenant_model_migrations'
        UNION ALL
        SELECT 'constraint ' || con.conrelid::regclass || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
        FROM pg_constraint con
        WHERE con.connamespace = 'public'::regnamespace AND con.conrelid::regclass::text <> 'tenant_model_migrations'
        UNION ALL
        SELECT 'policy ' || p.tablename || ' ' || p.policyname || ' ' || p.permissive || ' ' || p.cmd
               || ' ' || p.roles::text || ' using=' || coalesce(p.qual, '') || ' check=' || coalesce(p.with_check, '')
        FROM pg_policies p WHERE p.schemaname = 'public'
        UNION ALL
        SELECT 'type ' || t.typname || ' ' || t.typtype::text || ' '
               || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                            FROM pg_enum e WHERE e.enumtypid = t.oid), '')
        FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r')
        UNION ALL
        SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'trigger ' || pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
        ORDER BY 1
    "#;
    client
        .query(SQL, &[])
        .await
        .expect("catalog snapshot")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Whether the ledger table exists.
pub async fn ledger_exists(client: &Client) -> bool {
    client
        .query_one(
            "SELECT to_regclass('tenant_model_migrations') IS NOT NULL",
            &[],
        )
        .await
        .expect("to_regclass")
        .get(0)
}

/// The ledger: `(version, name, checksum)` by version (none without a
/// ledger table).
pub async fn ledger(client: &Client) -> Vec<(i64, String, String)> {
    if !ledger_exists(client).await {
        return Vec::new();
    }
    client
        .query(
            "SELECT version, name, checksum FROM tenant_model_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("ledger")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// The basic fixture's folder (`tests/migrations/basic`).
pub fn basic_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrations/basic")
}

/// A temp folder of migrations: `(folder, up.sql, down.sql)` each.
pub struct TempMigrations {
    pub dir: PathBuf,
}

impl TempMigrations {
    pub fn new(migrations: &[(&str, &str, Option<&str>)]) -> TempMigrations {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("tm_migrations_{suffix}"));
        for (folder, up, down) in migrations {
            TempMigrations::write(&dir, folder, up, *down);
        }
        TempMigrations { dir }
    }

    pub fn write(dir: &Path, folder: &str, up: &str, down: Option<&str>) {
        let path = dir.join(folder);
        std::fs::create_dir_all(&path).expect("create the migration folder");
        std::fs::write(path.join("up.sql"), up).expect("write up.sql");
        if let Some(down) = down {
            std::fs::write(path.join("down.sql"), down).expect("write down.sql");
        }
    }

    pub fn load(&self) -> tenant_model::migrate::Migrations {
        tenant_model::migrate::Migrations::from_dir(&self.dir).expect("load the migrations")
    }
}

impl Drop for TempMigrations {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
