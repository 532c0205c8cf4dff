//! Schema emission: the DDL for a set of models, row-level security included.

use crate::model::{Model, ModelDef};
use crate::tenant::Tenant;

/// The default name of the application role the DDL grants to.
pub const DEFAULT_APP_ROLE: &str = "tenant_model_app";
/// The default name of the admin role the cross-tenant policy applies to.
pub const DEFAULT_ADMIN_ROLE: &str = "tenant_model_admin";

/// A set of models and the roles that use them; emits deterministic DDL.
///
/// The built-in [`Tenant`] root is always included; adding a model also adds
/// every model it references.
#[derive(Debug, Clone)]
pub struct Schema {
    models: Vec<&'static ModelDef>,
    app_role: String,
    admin_role: String,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

impl Schema {
    /// A schema holding only the `tenants` root table.
    pub fn new() -> Schema {
        Schema {
            models: vec![Tenant::DEF],
            app_role: DEFAULT_APP_ROLE.to_owned(),
            admin_role: DEFAULT_ADMIN_ROLE.to_owned(),
        }
    }

    /// Adds model `M` (and, recursively, the models it references).
    pub fn model<M: Model>(self) -> Schema {
        self.add(M::DEF)
    }

    /// Adds a model by its description.
    pub fn add(mut self, def: &'static ModelDef) -> Schema {
        if self.models.iter().any(|m| std::ptr::eq(*m, def) || m.table == def.table) {
            return self;
        }
        self.models.push(def);
        let targets: Vec<&'static ModelDef> = def
            .foreign_keys
            .iter()
            .map(|fk| (fk.target)())
            .chain(def.soft_delete.iter().filter_map(|s| s.by.map(|by| by())))
            .chain(def.link.iter().flat_map(|l| [(l.left)(), (l.right)()]))
            .collect();
        targets.into_iter().fold(self, Schema::add)
    }

    /// Sets the application role the DDL grants to (default `tenant_model_app`).
    pub fn app_role(mut self, name: impl Into<String>) -> Schema {
        self.app_role = name.into();
        self
    }

    /// Sets the admin role the cross-tenant policies apply to (default `tenant_model_admin`).
    pub fn admin_role(mut self, name: impl Into<String>) -> Schema {
        self.admin_role = name.into();
        self
    }

    /// The application role's name.
    pub fn app_role_name(&self) -> &str {
        &self.app_role
    }

    /// The admin role's name.
    pub fn admin_role_name(&self) -> &str {
        &self.admin_role
    }

    /// The models, in the order they were added.
    pub fn models(&self) -> &[&'static ModelDef] {
        &self.models
    }

    /// The full DDL (placeholder until the emitter lands).
    pub fn create_sql(&self) -> String {
        String::new()
    }
}
