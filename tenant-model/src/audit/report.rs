//! What an audit found: the facts, and the findings they add up to.

use std::fmt;

use crate::audit::catalog::{CatalogPolicy, GroupRole, UnsafeView};
use crate::audit::policies::PolicyChange;
use crate::audit::role::{ConnectionRole, RoleEscape};
use crate::model::Scope;

/// The oldest PostgreSQL the emitted DDL supports, as `server_version_num`:
/// 15, for `ON DELETE SET NULL (column)` (the soft-delete `deleted_by_id`
/// keys) and `security_invoker` views.
pub const MIN_SERVER_VERSION_NUM: i32 = 150_000;

/// The live catalog checked against a [`crate::Schema`]: see
/// [`crate::Db::audit`]. [`AuditReport::findings`] lists what is wrong;
/// the fields hold what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditReport {
    /// The role the tenant pool logs in as.
    pub role: ConnectionRole,
    /// The server's `server_version_num` (e.g. `150004`).
    pub server_version_num: i32,
    /// The server's `server_version` (e.g. `"15.4"`).
    pub server_version: String,
    /// Each model table, in creation order.
    pub tables: Vec<TableReport>,
    /// Views over tenant tables that do not apply the reader's row-level
    /// security.
    pub unsafe_views: Vec<UnsafeView>,
    /// The schema's application and admin roles.
    pub group_roles: Vec<GroupRole>,
}

/// One model table as the catalog holds it, compared with the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableReport {
    /// The table's name.
    pub table: String,
    /// Tenant, root (`tenants`) or global; global tables are not under
    /// row-level security, so only their grants are checked.
    pub scope: Scope,
    /// Whether it exists. When it does not, the other fields are empty.
    pub exists: bool,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub rls_enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub rls_forced: bool,
    /// Policies the schema creates that the table lacks.
    pub missing_policies: Vec<CatalogPolicy>,
    /// Policies named as the schema names them whose rule differs.
    pub changed_policies: Vec<PolicyChange>,
    /// Policies the schema does not create.
    pub extra_policies: Vec<CatalogPolicy>,
    /// Roles other than the owner that hold `TRUNCATE` on it (`PUBLIC`
    /// for everyone).
    pub truncate_grantees: Vec<String>,
}

/// One thing an audit found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The connecting role can escape row-level security.
    UnsafeRole {
        /// The login role.
        role: String,
        /// How.
        escape: RoleEscape,
    },
    /// The server is older than [`MIN_SERVER_VERSION_NUM`].
    ServerTooOld {
        /// The server's `server_version`.
        version: String,
    },
    /// A model table does not exist.
    TableMissing {
        /// The table.
        table: String,
    },
    /// Row-level security is not enabled on a tenant table.
    RlsDisabled {
        /// The table.
        table: String,
    },
    /// Row-level security is not forced, so the table's owner bypasses it.
    RlsNotForced {
        /// The table.
        table: String,
    },
    /// A policy the schema creates is missing.
    PolicyMissing {
        /// The table.
        table: String,
        /// The policy, as the server normalizes it.
        policy: CatalogPolicy,
    },
    /// A policy named as the schema names it says something else.
    PolicyChanged {
        /// The table.
        table: String,
        /// Expected and found.
        change: PolicyChange,
    },
    /// A policy the schema does not create. A permissive one widens what
    /// rows are visible; a restrictive one narrows them.
    PolicyExtra {
        /// The table.
        table: String,
        /// The policy.
        policy: CatalogPolicy,
    },
    /// A role holds `TRUNCATE`, which row-level security does not restrict.
    TruncateGranted {
        /// The table.
        table: String,
        /// The role (`PUBLIC` for everyone).
        grantee: String,
    },
    /// A view reads tenant tables as its owner, or a materialized view
    /// stores what its owner saw.
    UnsafeView(UnsafeView),
    /// The schema's application or admin role does not exist.
    GroupRoleMissing {
        /// The role.
        role: String,
    },
    /// The schema's application or admin role is a superuser or has
    /// `BYPASSRLS` ([`RoleEscape::Superuser`] or [`RoleEscape::BypassRls`]).
    GroupRoleUnsafe {
        /// The role.
        role: String,
        /// Which attribute.
        escape: RoleEscape,
    },
}

impl AuditReport {
    /// Everything found wrong, in a stable order: the connecting role, the
    /// server, each table, the views, the schema's roles.
    pub fn findings(&self) -> impl Iterator<Item = Finding> + '_ {
        let role = self
            .role
            .escapes()
            .into_iter()
            .map(|escape| Finding::UnsafeRole {
                role: self.role.name.clone(),
                escape,
            });
        let server =
            (self.server_version_num < MIN_SERVER_VERSION_NUM).then(|| Finding::ServerTooOld {
                version: self.server_version.clone(),
            });
        let views = self.unsafe_views.iter().cloned().map(Finding::UnsafeView);
        let groups = self.group_roles.iter().flat_map(GroupRole::findings);
        role.chain(server)
            .chain(self.tables.iter().flat_map(TableReport::findings))
            .chain(views)
            .chain(groups)
    }

    /// Whether nothing was found wrong.
    pub fn is_ok(&self) -> bool {
        self.findings().next().is_none()
    }
}

impl TableReport {
    /// What is wrong with this table.
    pub fn findings(&self) -> Vec<Finding> {
        let table = || self.table.clone();
        if !self.exists {
            return vec![Finding::TableMissing { table: table() }];
        }
        let mut findings = Vec::new();
        if self.scope != Scope::Global {
            if !self.rls_enabled {
                findings.push(Finding::RlsDisabled { table: table() });
            }
            if !self.rls_forced {
                findings.push(Finding::RlsNotForced { table: table() });
            }
        }
        findings.extend(
            self.missing_policies
                .iter()
                .map(|p| Finding::PolicyMissing {
                    table: table(),
                    policy: p.clone(),
                }),
        );
        findings.extend(
            self.changed_policies
                .iter()
                .map(|c| Finding::PolicyChanged {
                    table: table(),
                    change: c.clone(),
                }),
        );
        findings.extend(self.extra_policies.iter().map(|p| Finding::PolicyExtra {
            table: table(),
            policy: p.clone(),
        }));
        findings.extend(
            self.truncate_grantees
                .iter()
                .map(|g| Finding::TruncateGranted {
                    table: table(),
                    grantee: g.clone(),
                }),
        );
        findings
    }
}

impl GroupRole {
    fn findings(&self) -> Vec<Finding> {
        let role = || self.name.clone();
        if !self.exists {
            return vec![Finding::GroupRoleMissing { role: role() }];
        }
        let mut findings = Vec::new();
        if self.superuser {
            findings.push(Finding::GroupRoleUnsafe {
                role: role(),
                escape: RoleEscape::Superuser,
            });
        }
        if self.bypass_rls {
            findings.push(Finding::GroupRoleUnsafe {
                role: role(),
                escape: RoleEscape::BypassRls,
            });
        }
        findings
    }
}

impl fmt::Display for CatalogPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        };
        let roles = if self.roles.is_empty() {
            "PUBLIC".to_owned()
        } else {
            self.roles.join(", ")
        };
        write!(f, "{} AS {kind} FOR {} TO {roles}", self.name, self.command)?;
        if let Some(using) = &self.using {
            write!(f, " USING ({using})")?;
        }
        if let Some(check) = &self.with_check {
            write!(f, " WITH CHECK ({check})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::UnsafeRole { role, escape } => write!(
                f,
                "the connecting role {role} escapes row-level security: {escape}"
            ),
            Finding::ServerTooOld { version } => write!(
                f,
                "PostgreSQL {version} is older than 15, the oldest the emitted DDL supports"
            ),
            Finding::TableMissing { table } => {
                write!(f, "{table}: the table does not exist (apply the schema)")
            }
            Finding::RlsDisabled { table } => write!(
                f,
                "{table}: row-level security is disabled (ALTER TABLE {table} ENABLE ROW LEVEL SECURITY)"
            ),
            Finding::RlsNotForced { table } => write!(
                f,
                "{table}: row-level security is not forced, so the owner bypasses it \
                 (ALTER TABLE {table} FORCE ROW LEVEL SECURITY)"
            ),
            Finding::PolicyMissing { table, policy } => {
                write!(f, "{table}: policy missing: {policy}")
            }
            Finding::PolicyChanged { table, change } => write!(
                f,
                "{table}: policy {} differs from the schema: expected {}; found {}",
                change.live.name, change.expected, change.live
            ),
            Finding::PolicyExtra { table, policy } => {
                write!(f, "{table}: policy not in the schema: {policy}")
            }
            Finding::TruncateGranted { table, grantee } => write!(
                f,
                "{table}: {grantee} holds TRUNCATE, which row-level security does not restrict \
                 (REVOKE TRUNCATE ON {table} FROM {grantee})"
            ),
            Finding::UnsafeView(view) if view.materialized => write!(
                f,
                "materialized view {} stores rows of {} as its owner saw them, every tenant's",
                view.view,
                view.over.join(", ")
            ),
            Finding::UnsafeView(view) => write!(
                f,
                "view {} reads {} as its owner, not under the reader's row-level security \
                 (ALTER VIEW {} SET (security_invoker = true))",
                view.view,
                view.over.join(", "),
                view.view
            ),
            Finding::GroupRoleMissing { role } => {
                write!(f, "role {role} does not exist (apply the schema)")
            }
            Finding::GroupRoleUnsafe { role, escape } => {
                write!(f, "the schema's role {role} escapes row-level security: {escape}")
            }
        }
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let findings: Vec<Finding> = self.findings().collect();
        write!(
            f,
            "audit of {} tables as {} on PostgreSQL {}: ",
            self.tables.len(),
            self.role.name,
            self.server_version
        )?;
        if findings.is_empty() {
            return f.write_str("no findings");
        }
        write!(f, "{} finding(s)", findings.len())?;
        for finding in findings {
            write!(f, "\n- {finding}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean() -> AuditReport {
        AuditReport {
            role: ConnectionRole {
                name: "app".into(),
                superuser: false,
                bypass_rls: false,
                create_role: false,
                server_version_num: 150_004,
                member_of: Vec::new(),
                owned_tables: Vec::new(),
            },
            server_version_num: 150_004,
            server_version: "15.4".into(),
            tables: vec![TableReport {
                table: "users".into(),
                scope: Scope::Tenant,
                exists: true,
                rls_enabled: true,
                rls_forced: true,
                missing_policies: Vec::new(),
                changed_policies: Vec::new(),
                extra_policies: Vec::new(),
                truncate_grantees: Vec::new(),
            }],
            unsafe_views: Vec::new(),
            group_roles: vec![GroupRole {
                name: "tenant_model_app".into(),
                exists: true,
                superuser: false,
                bypass_rls: false,
            }],
        }
    }

    #[test]
    fn a_clean_report_is_ok() {
        let report = clean();
        assert!(report.is_ok());
        assert_eq!(
            report.to_string(),
            "audit of 1 tables as app on PostgreSQL 15.4: no findings"
        );
    }

    #[test]
    fn a_server_older_than_15_is_a_finding() {
        let mut report = clean();
        report.server_version_num = 140_011;
        report.server_version = "14.11".into();
        assert_eq!(
            report.findings().collect::<Vec<_>>(),
            [Finding::ServerTooOld {
                version: "14.11".into()
            }]
        );
        assert!(report
            .to_string()
            .contains("\n- PostgreSQL 14.11 is older than 15"));
    }

    #[test]
    fn a_missing_table_is_one_finding() {
        let mut report = clean();
        report.tables[0].exists = false;
        report.tables[0].rls_enabled = false;
        assert_eq!(
            report.findings().collect::<Vec<_>>(),
            [Finding::TableMissing {
                table: "users".into()
            }]
        );
    }

    #[test]
    fn global_tables_need_no_row_level_security() {
        let mut report = clean();
        report.tables[0].scope = Scope::Global;
        report.tables[0].rls_enabled = false;
        report.tables[0].rls_forced = false;
        assert!(report.is_ok());
        report.tables[0].truncate_grantees = vec!["PUBLIC".into()];
        assert_eq!(
            report.findings().map(|f| f.to_string()).collect::<Vec<_>>(),
            [
                "users: PUBLIC holds TRUNCATE, which row-level security does not restrict \
              (REVOKE TRUNCATE ON users FROM PUBLIC)"
            ]
        );
    }
}
