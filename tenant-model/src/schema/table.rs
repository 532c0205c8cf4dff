//! The physical table of a model: columns, constraints and indexes, as data
//! (for rendering DDL now, and for comparing with a live database).

use crate::model::column_type::{ScalarType, SqlType};
use crate::model::{ColumnDef, DefaultValue, ModelDef, OnDelete, Scope, SystemColumn};
use crate::schema::names;
use crate::schema::target::Target;
use crate::sql::sql_text::{ident, ident_list, literal};

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumn {
    /// Column name.
    pub name: &'static str,
    /// SQL type as written in DDL (`varchar(255)`, `user_role[]`, ...).
    pub sql_type: String,
    /// `NOT NULL` when false.
    pub nullable: bool,
    /// The default expression, as written in DDL.
    pub default: Option<String>,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// Constraint name.
    pub name: String,
    /// What it says.
    pub kind: ConstraintKind,
}

/// The kinds of constraint the emitter writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `PRIMARY KEY (...)`
    PrimaryKey(Vec<&'static str>),
    /// `UNIQUE (...)`
    Unique(Vec<&'static str>),
    /// `FOREIGN KEY (...) REFERENCES table (...) ON DELETE ...`
    ForeignKey {
        /// Referencing columns.
        columns: Vec<&'static str>,
        /// Referenced table.
        table: &'static str,
        /// Referenced columns.
        target_columns: Vec<&'static str>,
        /// The `ON DELETE` action, with its column list where it has one.
        on_delete: String,
    },
    /// `CHECK (...)`
    Check(String),
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// Method (`gin`); btree when `None`.
    pub method: Option<&'static str>,
    /// Key columns with their direction, as written (`created_at DESC`).
    pub keys: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
}

/// A model's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Tenant, global or root.
    pub scope: Scope,
    /// Columns in table order.
    pub columns: Vec<TableColumn>,
    /// Constraints, in the order they are written.
    pub constraints: Vec<Constraint>,
    /// Indexes, in the order they are created.
    pub indexes: Vec<Index>,
}

impl Table {
    /// Builds the table for `def`, for plain PostgreSQL.
    pub fn new(def: &'static ModelDef) -> Table {
        Table::for_target(def, Target::Postgres)
    }

    /// Builds the table for `def` as `target` needs it. On
    /// [`Target::Citus`] a foreign key between two tenant tables (which
    /// includes `tenant_id`, the distribution column) cannot be `ON DELETE
    /// SET NULL`: it is emitted without the action, and the library nulls
    /// the column itself (see [`Schema::set_null_references`](super::Schema::set_null_references)).
    pub fn for_target(def: &'static ModelDef, target: Target) -> Table {
        let mut table = Table {
            name: def.table,
            scope: def.scope,
            columns: columns(def),
            constraints: Vec::new(),
            indexes: Vec::new(),
        };
        table.add_keys(def);
        table.add_foreign_keys(def, target);
        if def.soft_delete.is_some() {
            table.constraints.push(Constraint {
                name: names::join(&[def.table, "soft_delete_check"]),
                kind: ConstraintKind::Check("is_deleted = (deleted_at IS NOT NULL)".to_owned()),
            });
        }
        table.add_indexes(def);
        table.add_foreign_key_indexes();
        table
    }

    /// The leading columns every key and index on this table starts with.
    fn tenant_prefix(&self) -> Vec<&'static str> {
        if self.scope == Scope::Tenant {
            vec![SystemColumn::TenantId.name()]
        } else {
            Vec::new()
        }
    }

    /// The primary key, which on tenant tables leads with `tenant_id`: a key
    /// is unique within its tenant only, so no tenant's key can collide
    /// with, reveal or block another's, and the composite foreign keys of
    /// other tenant tables point at it. Then the unique keys, per tenant.
    fn add_keys(&mut self, def: &ModelDef) {
        let table = def.table;
        self.constraints.push(Constraint {
            name: names::join(&[table, "pkey"]),
            kind: ConstraintKind::PrimaryKey(self.with_tenant_prefix(def.primary_key)),
        });
        for unique in def.uniques {
            let columns = self.with_tenant_prefix(unique.columns);
            let name = unique.name.map_or_else(
                || names::join(&[&[table], columns.as_slice(), &["key"]].concat()),
                str::to_owned,
            );
            match def.unique_predicate(unique) {
                None => self.constraints.push(Constraint {
                    name,
                    kind: ConstraintKind::Unique(columns),
                }),
                Some(predicate) => self.indexes.push(Index {
                    name,
                    unique: true,
                    method: None,
                    keys: columns.iter().map(|c| ident(c).into_owned()).collect(),
                    predicate: Some(predicate),
                }),
            }
        }
    }

    /// `columns` after the tenant prefix.
    fn with_tenant_prefix(&self, columns: &[&'static str]) -> Vec<&'static str> {
        self.tenant_prefix()
            .into_iter()
            .chain(columns.iter().copied())
            .collect()
    }

    fn add_foreign_keys(&mut self, def: &ModelDef, target_db: Target) {
        if self.scope == Scope::Tenant {
            self.constraints.push(Constraint {
                name: names::join(&[def.table, "tenant_id_fkey"]),
                kind: ConstraintKind::ForeignKey {
                    columns: vec!["tenant_id"],
                    table: "tenants",
                    target_columns: vec!["id"],
                    on_delete: "CASCADE".to_owned(),
                },
            });
        }
        for (column, target, on_delete) in def.references() {
            let target = target();
            // The target's key as it is: `Schema::check` (and the derive,
            // at compile time) rejects a key of more than one column, never
            // guessed here.
            let key = target.primary_key.iter().copied();
            // Between two tenant tables the key includes tenant_id, so the
            // database itself refuses a reference into another tenant.
            let both_tenant = self.scope == Scope::Tenant && target.scope == Scope::Tenant;
            let (columns, target_columns) = if both_tenant {
                (
                    vec!["tenant_id", column],
                    ["tenant_id"].into_iter().chain(key).collect(),
                )
            } else {
                (vec![column], key.collect())
            };
            let on_delete = match on_delete {
                // Citus refuses SET NULL on a key that includes the
                // distribution column; the library stands in for it.
                OnDelete::SetNull if both_tenant && target_db == Target::Citus => {
                    "NO ACTION".to_owned()
                }
                OnDelete::NoAction => "NO ACTION".to_owned(),
                OnDelete::Restrict => "RESTRICT".to_owned(),
                OnDelete::Cascade => "CASCADE".to_owned(),
                // Only the referencing column: never null out tenant_id.
                OnDelete::SetNull => format!("SET NULL ({})", ident(column)),
                OnDelete::SetDefault => format!("SET DEFAULT ({})", ident(column)),
            };
            self.constraints.push(Constraint {
                name: names::join(&[def.table, column, "fkey"]),
                kind: ConstraintKind::ForeignKey {
                    columns,
                    table: target.table,
                    target_columns,
                    on_delete,
                },
            });
        }
    }

    fn add_indexes(&mut self, def: &ModelDef) {
        for index in def.indexes {
            // Only btree indexes can lead with tenant_id (uuid has no GIN or
            // GiST operator class); the planner combines the others with
            // the tenant key's index.
            let btree = matches!(index.method, None | Some("btree"));
            let prefix = if index.tenant_prefix && btree {
                self.tenant_prefix()
            } else {
                Vec::new()
            };
            let keys: Vec<String> = prefix
                .iter()
                .map(|c| ident(c).into_owned())
                .chain(index.columns.iter().map(|c| {
                    if c.desc {
                        format!("{} DESC", ident(c.name))
                    } else {
                        ident(c.name).into_owned()
                    }
                }))
                .collect();
            // An index on exactly the columns of a unique key or the
            // primary key would only duplicate the key's own index.
            let plain = index.predicate.is_none()
                && index.method.is_none()
                && index.columns.iter().all(|c| !c.desc);
            let columns: Vec<&str> = prefix
                .iter()
                .copied()
                .chain(index.columns.iter().map(|c| c.name))
                .collect();
            if plain && self.has_key_on(&columns) {
                continue;
            }
            let name = match index.name {
                Some(name) => name.to_owned(),
                None => self.free_index_name(index.columns.iter().map(|c| c.name).collect()),
            };
            self.indexes.push(Index {
                name,
                unique: false,
                method: index.method,
                keys,
                predicate: index.predicate.map(str::to_owned),
            });
        }
    }

    /// Every foreign key gets an index on its referencing columns (deletes
    /// of the referenced row and joins need it) unless a key or index
    /// already starts with them. Nullable ones index only the set values.
    fn add_foreign_key_indexes(&mut self) {
        let foreign: Vec<Vec<&'static str>> = self
            .constraints
            .iter()
            .filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey { columns, .. } => Some(columns.clone()),
                _ => None,
            })
            .collect();
        for columns in foreign {
            if self.is_covered(&columns) {
                continue;
            }
            let last = columns[columns.len() - 1];
            let nullable = self.columns.iter().any(|c| c.name == last && c.nullable);
            let name = self.free_index_name(vec![last]);
            self.indexes.push(Index {
                name,
                unique: false,
                method: None,
                keys: columns.iter().map(|c| ident(c).into_owned()).collect(),
                predicate: nullable.then(|| format!("{} IS NOT NULL", ident(last))),
            });
        }
    }

    /// Whether the primary key or a unique constraint is on exactly `columns`.
    fn has_key_on(&self, columns: &[&str]) -> bool {
        self.constraints.iter().any(|c| match &c.kind {
            ConstraintKind::PrimaryKey(cols) | ConstraintKind::Unique(cols) => {
                cols.as_slice() == columns
            }
            _ => false,
        })
    }

    /// Whether a key or a full (non-partial) btree index starts with `columns`.
    fn is_covered(&self, columns: &[&str]) -> bool {
        let starts_with = |keys: &[String]| {
            keys.len() >= columns.len() && keys.iter().zip(columns).all(|(k, c)| *k == ident(c))
        };
        let by_constraint = self.constraints.iter().any(|c| match &c.kind {
            ConstraintKind::PrimaryKey(cols) | ConstraintKind::Unique(cols) => {
                cols.len() >= columns.len() && cols.iter().zip(columns).all(|(a, b)| a == b)
            }
            _ => false,
        });
        by_constraint
            || self
                .indexes
                .iter()
                .any(|i| i.predicate.is_none() && i.method.is_none() && starts_with(&i.keys))
    }

    /// `idx_<table>_<columns>`, numbered when that name is taken.
    fn free_index_name(&self, columns: Vec<&str>) -> String {
        let base = names::join(&[&["idx", self.name], columns.as_slice()].concat());
        let taken = |n: &str| {
            self.indexes.iter().any(|i| i.name == n) || self.constraints.iter().any(|c| c.name == n)
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken(&name) {
            name = names::fit(format!("{base}_{n}"));
            n += 1;
        }
        name
    }

    /// `CREATE TABLE ...;` with inline constraints, except the foreign keys
    /// whose targets are in `later` (created after this table).
    pub fn create_sql(&self, later: &[&str]) -> String {
        let mut lines: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let mut line = format!("{} {}", ident(c.name), c.sql_type);
                if !c.nullable {
                    line.push_str(" NOT NULL");
                }
                if let Some(default) = &c.default {
                    line.push_str(" DEFAULT ");
                    line.push_str(default);
                }
                line
            })
            .collect();
        lines.extend(
            self.constraints
                .iter()
                .filter(|c| !points_to(c, later))
                .map(|c| format!("CONSTRAINT {} {}", ident(&c.name), constraint_sql(&c.kind))),
        );
        format!(
            "CREATE TABLE {} (\n    {}\n);\n",
            ident(self.name),
            lines.join(",\n    ")
        )
    }

    /// `ALTER TABLE ... ADD CONSTRAINT` for foreign keys into `later` tables.
    pub fn deferred_foreign_keys_sql(&self, later: &[&str]) -> String {
        self.constraints
            .iter()
            .filter(|c| points_to(c, later))
            .map(|c| {
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {};\n",
                    ident(self.name),
                    ident(&c.name),
                    constraint_sql(&c.kind)
                )
            })
            .collect()
    }

    /// `CREATE INDEX ...;` for every index.
    pub fn indexes_sql(&self) -> String {
        self.indexes
            .iter()
            .map(|i| index_sql(self.name, i))
            .collect()
    }
}

fn points_to(constraint: &Constraint, tables: &[&str]) -> bool {
    matches!(&constraint.kind, ConstraintKind::ForeignKey { table, .. } if tables.contains(table))
}

/// The body of a constraint, after `CONSTRAINT name`.
pub(crate) fn constraint_sql(kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey(cols) => {
            format!("PRIMARY KEY ({})", ident_list(cols.iter().copied()))
        }
        ConstraintKind::Unique(cols) => format!("UNIQUE ({})", ident_list(cols.iter().copied())),
        ConstraintKind::ForeignKey {
            columns,
            table,
            target_columns,
            on_delete,
        } => format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}){}",
            ident_list(columns.iter().copied()),
            ident(table),
            ident_list(target_columns.iter().copied()),
            // NO ACTION is PostgreSQL's default: left unsaid, as a DBA would.
            match on_delete.as_str() {
                "NO ACTION" => String::new(),
                action => format!(" ON DELETE {action}"),
            }
        ),
        ConstraintKind::Check(expr) => format!("CHECK ({expr})"),
    }
}

/// `CREATE [UNIQUE] INDEX name ON table [USING m] (keys) [WHERE p];`
pub(crate) fn index_sql(table: &str, index: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {}{} ({}){};\n",
        if index.unique { "UNIQUE " } else { "" },
        ident(&index.name),
        ident(table),
        index
            .method
            .map(|m| format!(" USING {m}"))
            .unwrap_or_default(),
        index.keys.join(", "),
        index
            .predicate
            .as_ref()
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default(),
    )
}

/// The table's columns: the struct's fields, with `tenant_id` after the
/// leading primary-key fields, then the other system columns.
fn columns(def: &'static ModelDef) -> Vec<TableColumn> {
    let mut fields: Vec<TableColumn> = def.fields.iter().map(|f| field_column(def, f)).collect();
    let added: Vec<SystemColumn> = def.added_system_columns().collect();
    if added.contains(&SystemColumn::TenantId) {
        let at = def.fields.iter().take_while(|f| f.primary_key).count();
        fields.insert(at, system_column(SystemColumn::TenantId));
    }
    fields.extend(
        added
            .into_iter()
            .filter(|c| *c != SystemColumn::TenantId)
            .map(system_column),
    );
    fields
}

fn field_column(def: &ModelDef, field: &ColumnDef) -> TableColumn {
    if let Some(system) = field.system {
        return TableColumn {
            name: field.name,
            ..system_column(system)
        };
    }
    let sql_type = type_sql(field.sql_type, field.max_length);
    let is_single_uuid_key = field.primary_key
        && def.primary_key.len() == 1
        && field.sql_type == SqlType::Scalar(ScalarType::Uuid);
    let default = match field.default {
        Some(default) => Some(default_sql(default, field.sql_type, &sql_type)),
        None if is_single_uuid_key => Some("gen_random_uuid()".to_owned()),
        None => None,
    };
    TableColumn {
        name: field.name,
        sql_type,
        nullable: field.nullable,
        default,
    }
}

fn system_column(column: SystemColumn) -> TableColumn {
    let (sql_type, nullable, default) = match column {
        SystemColumn::TenantId => ("uuid", false, None),
        SystemColumn::CreatedAt | SystemColumn::UpdatedAt => ("timestamptz", false, Some("now()")),
        SystemColumn::IsDeleted => ("boolean", false, Some("false")),
        SystemColumn::DeletedAt => ("timestamptz", true, None),
        SystemColumn::DeletedById => ("uuid", true, None),
    };
    TableColumn {
        name: column.name(),
        sql_type: sql_type.to_owned(),
        nullable,
        default: default.map(str::to_owned),
    }
}

/// The DDL type: `varchar(n)` for text with a max length, `[]` for arrays.
pub(crate) fn type_sql(sql_type: SqlType, max_length: Option<u32>) -> String {
    let scalar = match (sql_type.scalar(), max_length) {
        (ScalarType::Text, Some(n)) => format!("varchar({n})"),
        (ScalarType::Enum(def), _) => ident(def.name).into_owned(),
        (scalar, _) => scalar.sql_name().to_owned(),
    };
    match sql_type {
        SqlType::Scalar(_) => scalar,
        SqlType::Array(_) => format!("{scalar}[]"),
    }
}

fn default_sql(default: DefaultValue, sql_type: SqlType, type_name: &str) -> String {
    match default {
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) | DefaultValue::Expr(f) => f.to_owned(),
        DefaultValue::Str(s) => match sql_type {
            SqlType::Scalar(ScalarType::Text) => literal(s),
            _ => format!("{}::{}", literal(s), type_name),
        },
    }
}
