//! The demo's database: created, migrated as the owner with the example's
//! own migrations, given login roles for the application and the admin,
//! and dropped at the end — the steps of a real deployment, in small.

use tenant_model::migrate::Migrator;
use tenant_model::sql_text::{ident, literal};
use tenant_model::testing::Server;
use tenant_model::{Db, Error};
use tokio_postgres::{Client, Config, NoTls};
use uuid::Uuid;

use super::{show, DemoError, Output};
use crate::models;

/// A database made for one run of the demo, with its two login roles.
#[derive(Debug)]
pub struct DemoDatabase {
    name: String,
    /// The server's superuser, on the maintenance database.
    server: Config,
    app: Login,
    admin: Login,
}

/// A login role made for the run.
#[derive(Debug)]
struct Login {
    role: String,
    password: String,
}

impl Login {
    fn new(role: String) -> Login {
        Login {
            role,
            password: Uuid::new_v4().simple().to_string(),
        }
    }
}

impl DemoDatabase {
    /// Creates `tenant_model_demo_<8 hex>` on `server`, migrates it and
    /// creates its login roles; on a failure, drops what it made.
    pub async fn create(server: &Server, out: &mut Output) -> Result<DemoDatabase, DemoError> {
        let suffix = Uuid::new_v4().simple().to_string();
        let name = format!("tenant_model_demo_{}", &suffix[..8]);
        server
            .connect()
            .await?
            .batch_execute(&format!("CREATE DATABASE {}", ident(&name)))
            .await?;
        let database = DemoDatabase {
            app: Login::new(format!("{name}_app")),
            admin: Login::new(format!("{name}_admin")),
            server: server.config().clone(),
            name,
        };
        out.line(format!(
            "database: {} (made for this run, dropped at exit)",
            database.name
        ));
        if let Err(e) = database.prepare(out).await {
            // The step's error matters more than a failed clean-up.
            let _ = database.drop().await;
            return Err(e);
        }
        Ok(database)
    }

    /// Migrates as the owner (the server's user), then creates the login
    /// roles in the schema's group roles, which the migration created.
    async fn prepare(&self, out: &mut Output) -> Result<(), DemoError> {
        let migrations = tenant_model::embed_migrations!("examples/saas/migrations");
        let mut owner = connect(&self.owner_config()).await?;
        let applied = Migrator::new(&migrations).up(&mut owner, None).await?;
        let names: Vec<String> = applied
            .iter()
            .map(|step| format!("{}_{}", step.version, step.name))
            .collect();
        out.line(format!(
            "migrations: applied {} as the owner",
            show::list(&names)
        ));

        let schema = models::schema();
        let login = |login: &Login, group: &str| {
            format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS \
                 PASSWORD {} IN ROLE {};",
                ident(&login.role),
                literal(&login.password),
                ident(group)
            )
        };
        owner
            .batch_execute(&format!(
                "{}\n{}",
                login(&self.app, schema.app_role_name()),
                login(&self.admin, schema.admin_role_name())
            ))
            .await?;
        out.line(format!(
            "login roles: {} (in {}), {} (in {})",
            self.app.role,
            schema.app_role_name(),
            self.admin.role,
            schema.admin_role_name()
        ));
        Ok(())
    }

    /// A [`Db`] connecting as the application login role, with the admin
    /// login role's pool for [`Db::admin`].
    pub fn db(&self) -> Db {
        let app = Db::pool_from_config(self.login_config(&self.app), 4);
        let admin = Db::pool_from_config(self.login_config(&self.admin), 1);
        Db::from_pool(app).with_admin(admin)
    }

    /// Drops the database (closing its connections) and the login roles.
    pub async fn drop(self) -> Result<(), DemoError> {
        let client = connect(&self.server).await?;
        // Two statements: DROP DATABASE refuses to run in a transaction,
        // which a multi-statement query would be.
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ident(&self.name)
            ))
            .await?;
        client
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {}, {}",
                ident(&self.app.role),
                ident(&self.admin.role)
            ))
            .await?;
        Ok(())
    }

    fn owner_config(&self) -> Config {
        let mut config = self.server.clone();
        config.dbname(&self.name);
        config
    }

    fn login_config(&self, login: &Login) -> Config {
        let mut config = self.owner_config();
        config.user(&login.role).password(&login.password);
        config
    }
}

/// Connects and spawns the connection task.
async fn connect(config: &Config) -> Result<Client, Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
