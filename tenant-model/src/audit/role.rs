//! The role a connection logs in as, and the ways it can escape row-level
//! security: one catalog query.

use std::fmt;

use tracing::Instrument;

use crate::error::Error;
use crate::model::record::decode;

/// Roles whose members read or write the server's files, data files
/// included: around row-level security, not through it.
const SERVER_FILE_ROLES: [&str; 3] = [
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
];

/// Before PostgreSQL 16, `CREATEROLE` may grant any non-superuser role,
/// the tables' owner included.
const CREATEROLE_CONTAINED_FROM: i32 = 160_000;

/// Everything [`ConnectionRole`] holds, in one statement. The login role
/// is `session_user`: whatever a session switches to with `SET ROLE`, it
/// can switch back from, so the session user's memberships are what the
/// connection can reach. A table counts when row-level security is on or
/// it has policies (disabling RLS does not take it off the list).
const ROLE_QUERY: &str = "\
SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolcreaterole,
       current_setting('server_version_num')::int4,
       m.names, m.supers, m.bypasses, g.tables, g.owners
FROM pg_roles r,
LATERAL (
    SELECT coalesce(array_agg(x.rolname::text ORDER BY x.rolname), '{}'),
           coalesce(array_agg(x.rolsuper ORDER BY x.rolname), '{}'),
           coalesce(array_agg(x.rolbypassrls ORDER BY x.rolname), '{}')
    FROM pg_roles x
    WHERE x.oid <> r.oid AND pg_has_role(r.oid, x.oid, 'MEMBER')
) AS m(names, supers, bypasses),
LATERAL (
    SELECT coalesce(array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text), '{}'),
           coalesce(array_agg(pg_get_userbyid(c.relowner)::text ORDER BY c.oid::regclass::text), '{}')
    FROM pg_class c
    WHERE c.relkind IN ('r', 'p')
      AND (c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
      AND pg_has_role(r.oid, c.relowner, 'MEMBER')
) AS g(tables, owners)
WHERE r.rolname = session_user";

/// A role the connecting role is a member of, directly or through others
/// (so it can `SET ROLE` to it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Membership {
    /// The role's name.
    pub role: String,
    /// Whether that role is a superuser.
    pub superuser: bool,
    /// Whether that role has `BYPASSRLS`.
    pub bypass_rls: bool,
}

/// A table under row-level security whose owner the connecting role is, or
/// is a member of: the owner can switch RLS off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnedTable {
    /// The table, as `regclass` prints it.
    pub table: String,
    /// Its owner.
    pub owner: String,
}

/// The login role of a connection (`session_user`): its attributes, the
/// roles it can become, and the tables under row-level security it owns or
/// can act as the owner of. See [`ConnectionRole::escapes`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionRole {
    /// The login role's name.
    pub name: String,
    /// `SUPERUSER`.
    pub superuser: bool,
    /// `BYPASSRLS`.
    pub bypass_rls: bool,
    /// `CREATEROLE`.
    pub create_role: bool,
    /// The server's `server_version_num` (e.g. `150004`).
    pub server_version_num: i32,
    /// Every role it is a member of, by name.
    pub member_of: Vec<Membership>,
    /// Tables under row-level security owned by it or by a role it is a
    /// member of (for a superuser: all of them).
    pub owned_tables: Vec<OwnedTable>,
}

impl ConnectionRole {
    /// Reads the connection's login role from the catalog (one query, in a
    /// `tenant_model.role_check` span).
    pub(crate) async fn query(
        client: &impl tokio_postgres::GenericClient,
    ) -> Result<ConnectionRole, Error> {
        let row = client
            // Unnamed (no prepared statement), so it also works through a
            // transaction-mode pooler.
            .query_typed_one(ROLE_QUERY, &[])
            .instrument(tracing::debug_span!("tenant_model.role_check"))
            .await?;
        let names: Vec<String> = decode(&row, 5)?;
        let supers: Vec<bool> = decode(&row, 6)?;
        let bypasses: Vec<bool> = decode(&row, 7)?;
        let tables: Vec<String> = decode(&row, 8)?;
        let owners: Vec<String> = decode(&row, 9)?;
        Ok(ConnectionRole {
            name: decode(&row, 0)?,
            superuser: decode(&row, 1)?,
            bypass_rls: decode(&row, 2)?,
            create_role: decode(&row, 3)?,
            server_version_num: decode(&row, 4)?,
            member_of: names
                .into_iter()
                .zip(supers)
                .zip(bypasses)
                .map(|((role, superuser), bypass_rls)| Membership {
                    role,
                    superuser,
                    bypass_rls,
                })
                .collect(),
            owned_tables: tables
                .into_iter()
                .zip(owners)
                .map(|(table, owner)| OwnedTable { table, owner })
                .collect(),
        })
    }

    /// Every way this role can escape row-level security; empty when it
    /// cannot. A superuser is reported as that alone (it can do the rest).
    ///
    /// ```no_run
    /// # async fn f(db: tenant_model::Db) -> Result<(), tenant_model::Error> {
    /// let role = db.check_role().await?; // refused roles are an error here
    /// assert!(role.escapes().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn escapes(&self) -> Vec<RoleEscape> {
        if self.superuser {
            return vec![RoleEscape::Superuser];
        }
        let mut escapes = Vec::new();
        if self.bypass_rls {
            escapes.push(RoleEscape::BypassRls);
        }
        for membership in &self.member_of {
            if membership.superuser || membership.bypass_rls {
                escapes.push(RoleEscape::MemberOfPrivileged {
                    role: membership.role.clone(),
                    superuser: membership.superuser,
                });
            } else if SERVER_FILE_ROLES.contains(&membership.role.as_str()) {
                escapes.push(RoleEscape::ServerFiles {
                    role: membership.role.clone(),
                });
            }
        }
        for owned in &self.owned_tables {
            escapes.push(if owned.owner == self.name {
                RoleEscape::OwnsTable {
                    table: owned.table.clone(),
                }
            } else {
                RoleEscape::MemberOfOwner {
                    owner: owned.owner.clone(),
                    table: owned.table.clone(),
                }
            });
        }
        if self.create_role && self.server_version_num < CREATEROLE_CONTAINED_FROM {
            escapes.push(RoleEscape::CreateRole);
        }
        escapes
    }
}

/// How a role escapes row-level security.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleEscape {
    /// It is a superuser: RLS never applies to it.
    Superuser,
    /// It has `BYPASSRLS`.
    BypassRls,
    /// It is a member of a superuser or `BYPASSRLS` role, and can `SET
    /// ROLE` to it.
    MemberOfPrivileged {
        /// The privileged role.
        role: String,
        /// Superuser (else `BYPASSRLS`).
        superuser: bool,
    },
    /// It is a member of a role that reads or writes the server's files
    /// (`pg_read_server_files`, ...), data files included.
    ServerFiles {
        /// That role.
        role: String,
    },
    /// It owns a table under RLS, so it may switch RLS off (`ALTER TABLE
    /// ... NO FORCE` / `DISABLE ROW LEVEL SECURITY`) or drop its policies.
    OwnsTable {
        /// The table.
        table: String,
    },
    /// It is a member of the role that owns a table under RLS.
    MemberOfOwner {
        /// The owner.
        owner: String,
        /// The table.
        table: String,
    },
    /// It has `CREATEROLE` on a server older than PostgreSQL 16, where that
    /// lets it grant itself any non-superuser role, the owner's included.
    CreateRole,
}

impl fmt::Display for RoleEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleEscape::Superuser => f.write_str("it is a superuser"),
            RoleEscape::BypassRls => f.write_str("it has BYPASSRLS"),
            RoleEscape::MemberOfPrivileged { role, superuser } => write!(
                f,
                "it is a member of {role}, which {}",
                if *superuser {
                    "is a superuser"
                } else {
                    "has BYPASSRLS"
                }
            ),
            RoleEscape::ServerFiles { role } => write!(
                f,
                "it is a member of {role}, which reaches the server's files"
            ),
            RoleEscape::OwnsTable { table } => write!(
                f,
                "it owns {table}, so it can switch that table's row-level security off"
            ),
            RoleEscape::MemberOfOwner { owner, table } => {
                write!(f, "it is a member of {owner}, the owner of {table}")
            }
            RoleEscape::CreateRole => f.write_str(
                "it has CREATEROLE, which before PostgreSQL 16 can grant it any role, the tables' owner included",
            ),
        }
    }
}

/// What [`Error::UnsafeRole`] advises.
pub(crate) const UNSAFE_ROLE_ADVICE: &str = "Row-level security does not hold against such a \
role. Connect as a login role that is only a member of the application role (e.g. `CREATE ROLE \
my_app LOGIN PASSWORD '...' IN ROLE tenant_model_app;`): no SUPERUSER, no BYPASSRLS, no \
CREATEROLE, owning no table and not a member of the tables' owner. `db.audit(&schema)` reports \
what else to fix. For local development only, `Db::insecure_allow_rls_bypass()` lets such a \
role through with a warning.";

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> ConnectionRole {
        ConnectionRole {
            name: "app".into(),
            superuser: false,
            bypass_rls: false,
            create_role: false,
            server_version_num: 150_004,
            member_of: vec![Membership {
                role: "tenant_model_app".into(),
                superuser: false,
                bypass_rls: false,
            }],
            owned_tables: Vec::new(),
        }
    }

    #[test]
    fn an_application_role_cannot_escape() {
        assert_eq!(role().escapes(), []);
    }

    #[test]
    fn a_superuser_is_reported_alone() {
        let mut r = role();
        r.superuser = true;
        r.bypass_rls = true;
        assert_eq!(r.escapes(), [RoleEscape::Superuser]);
    }

    #[test]
    fn memberships_and_ownership_are_escapes() {
        let mut r = role();
        r.member_of.push(Membership {
            role: "pg_read_server_files".into(),
            superuser: false,
            bypass_rls: false,
        });
        r.member_of.push(Membership {
            role: "etl".into(),
            superuser: false,
            bypass_rls: true,
        });
        r.owned_tables = vec![
            OwnedTable {
                table: "users".into(),
                owner: "app".into(),
            },
            OwnedTable {
                table: "teams".into(),
                owner: "migrator".into(),
            },
        ];
        assert_eq!(
            r.escapes(),
            [
                RoleEscape::ServerFiles {
                    role: "pg_read_server_files".into()
                },
                RoleEscape::MemberOfPrivileged {
                    role: "etl".into(),
                    superuser: false
                },
                RoleEscape::OwnsTable {
                    table: "users".into()
                },
                RoleEscape::MemberOfOwner {
                    owner: "migrator".into(),
                    table: "teams".into()
                },
            ]
        );
    }

    #[test]
    fn createrole_escapes_before_postgres_16_only() {
        let mut r = role();
        r.create_role = true;
        assert_eq!(r.escapes(), [RoleEscape::CreateRole]);
        r.server_version_num = 160_001;
        assert_eq!(r.escapes(), []);
    }
}
