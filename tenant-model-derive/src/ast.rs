//! The derive's internal model of its input: a [`Model`] with its [`Field`]s,
//! or a [`PgEnum`] with its [`Variant`]s, built from the syntax tree and the
//! parsed attributes. Code generation reads only these.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Path, Type, Visibility};

use crate::attr::{self, FieldAttrs, ModelAttrs, Name};
use crate::case;
use crate::ctxt::Ctxt;

/// How a model's table relates to tenants (`Scope::Root` is only for the
/// hand-written `Tenant`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scope {
    Tenant,
    Global,
}

/// A column tenant-model manages (mirrors the runtime's `SystemColumn`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SystemColumn {
    TenantId,
    CreatedAt,
    UpdatedAt,
    IsDeleted,
    DeletedAt,
    DeletedById,
}

impl SystemColumn {
    pub(crate) const ALL: [SystemColumn; 6] = [
        SystemColumn::TenantId,
        SystemColumn::CreatedAt,
        SystemColumn::UpdatedAt,
        SystemColumn::IsDeleted,
        SystemColumn::DeletedAt,
        SystemColumn::DeletedById,
    ];

    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SystemColumn::TenantId => "tenant_id",
            SystemColumn::CreatedAt => "created_at",
            SystemColumn::UpdatedAt => "updated_at",
            SystemColumn::IsDeleted => "is_deleted",
            SystemColumn::DeletedAt => "deleted_at",
            SystemColumn::DeletedById => "deleted_by_id",
        }
    }

    /// The runtime enum's variant name.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            SystemColumn::TenantId => "TenantId",
            SystemColumn::CreatedAt => "CreatedAt",
            SystemColumn::UpdatedAt => "UpdatedAt",
            SystemColumn::IsDeleted => "IsDeleted",
            SystemColumn::DeletedAt => "DeletedAt",
            SystemColumn::DeletedById => "DeletedById",
        }
    }

    /// The marker type in `__private::system` used in type checks.
    pub(crate) fn marker(self) -> &'static str {
        match self {
            SystemColumn::TenantId => "TenantIdColumn",
            SystemColumn::CreatedAt => "CreatedAtColumn",
            SystemColumn::UpdatedAt => "UpdatedAtColumn",
            SystemColumn::IsDeleted => "IsDeletedColumn",
            SystemColumn::DeletedAt => "DeletedAtColumn",
            SystemColumn::DeletedById => "DeletedByIdColumn",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<SystemColumn> {
        SystemColumn::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The generated constant's name (`CREATED_AT`).
    pub(crate) fn const_name(self) -> String {
        self.name().to_uppercase()
    }
}

/// A struct deriving `TenantModel`.
pub(crate) struct Model<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) table: Name,
    pub(crate) scope: Scope,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) attrs: ModelAttrs,
}

/// A named field of a model.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) ty: &'a Type,
    /// The column name: `column = "..."` or the field name.
    pub(crate) column: Name,
    /// Set when the column is one tenant-model manages.
    pub(crate) system: Option<SystemColumn>,
    pub(crate) attrs: FieldAttrs,
}

impl<'a> Model<'a> {
    /// Reads a `#[derive(TenantModel)]` input. Returns `None` when the input
    /// is not a struct with named fields (the error is in `cx`).
    pub(crate) fn from_input(cx: &Ctxt, input: &'a DeriveInput) -> Option<Model<'a>> {
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "a model needs named fields (one per column); tuple structs cannot derive `TenantModel`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "a model needs named fields (one per column); unit structs cannot derive `TenantModel`",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_at(
                    data.enum_token.span,
                    "`TenantModel` is derived on structs with named fields; for a PostgreSQL enum type use `#[derive(PgEnum)]`",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span,
                    "`TenantModel` is derived on structs with named fields, not unions",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "a model cannot be generic: a table has one fixed set of column types",
            );
        }

        let attrs = attr::model_attrs(cx, &input.attrs);
        let table = match &attrs.table {
            Some(table) => table.value.clone(),
            None => Name {
                value: case::pluralize(&case::snake_case(&input.ident.unraw().to_string())),
                span: input.ident.span(),
            },
        };
        let scope = if attrs.global.is_some() {
            Scope::Global
        } else {
            Scope::Tenant
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = attr::field_attrs(cx, &field.attrs);
                let column = match &attrs.column {
                    Some(column) => column.value.clone(),
                    None => Name {
                        value: ident.unraw().to_string(),
                        span: ident.span(),
                    },
                };
                Some(Field {
                    ident,
                    vis: &field.vis,
                    ty: &field.ty,
                    system: SystemColumn::from_name(&column.value),
                    column,
                    attrs,
                })
            })
            .collect();
        Some(Model {
            ident: &input.ident,
            vis: &input.vis,
            table,
            scope,
            fields,
            attrs,
        })
    }

    pub(crate) fn rust_name(&self) -> String {
        self.ident.unraw().to_string()
    }

    pub(crate) fn has_soft_delete(&self) -> bool {
        self.attrs.soft_delete.is_some()
    }

    /// Whether this table has system column `c` (declared or added).
    pub(crate) fn has_system_column(&self, c: SystemColumn) -> bool {
        match c {
            SystemColumn::TenantId => self.scope == Scope::Tenant,
            SystemColumn::CreatedAt | SystemColumn::UpdatedAt => true,
            _ => self.has_soft_delete(),
        }
    }

    /// The system columns the derive adds (the table has them and no field
    /// maps them), in their fixed order.
    pub(crate) fn added_system_columns(&self) -> impl Iterator<Item = SystemColumn> + '_ {
        SystemColumn::ALL.into_iter().filter(move |c| {
            self.has_system_column(*c) && !self.fields.iter().any(|f| f.system == Some(*c))
        })
    }

    /// Primary-key fields, in declaration (= key) order.
    pub(crate) fn primary_key(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.attrs.primary_key.is_some())
    }

    /// Fields written on insert (not system columns), in declaration order.
    pub(crate) fn writable_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.system.is_none())
    }

    /// `soft_delete(by = ...)`.
    pub(crate) fn soft_delete_by(&self) -> Option<&Path> {
        self.attrs.soft_delete.as_ref()?.value.as_ref()
    }

    /// The many-to-one relations: one per `references` field named
    /// `<x>_id` (relation `x`) or with `relation = "name"`.
    pub(crate) fn belongs_to(&self) -> impl Iterator<Item = (&Field<'a>, &Path, Name)> {
        self.fields.iter().filter_map(|field| {
            let path = &field.attrs.references.as_ref()?.value;
            let name = match &field.attrs.relation {
                Some(relation) => relation.value.clone(),
                None => Name {
                    value: field.name().strip_suffix("_id")?.to_owned(),
                    span: field.ident.span(),
                },
            };
            Some((field, path, name))
        })
    }

    /// The declared `has_many(...)` and `many_to_many(...)` relations with
    /// a name and a model: `(name, target, via, through)`.
    pub(crate) fn declared_relations(&self) -> impl Iterator<Item = DeclaredRelation<'_>> {
        let has_many = self.attrs.has_many.iter();
        let many = self.attrs.many_to_many.iter();
        has_many.chain(many).filter_map(|r| {
            let (name, target) = r.value.target.as_ref()?;
            Some(DeclaredRelation {
                name,
                target,
                via: r.value.via.as_ref().map(|v| &v.value),
                through: r.value.through.as_ref().map(|t| &t.value),
            })
        })
    }

    /// The single primary-key field, if the key has one column.
    pub(crate) fn single_key(&self) -> Option<&Field<'a>> {
        let mut keys = self.primary_key();
        let first = keys.next()?;
        keys.next().is_none().then_some(first)
    }
}

/// A `has_many(name = T, via = c)` or `many_to_many(name = T, through = K)`.
pub(crate) struct DeclaredRelation<'m> {
    pub(crate) name: &'m Name,
    pub(crate) target: &'m Path,
    pub(crate) via: Option<&'m Name>,
    pub(crate) through: Option<&'m Path>,
}

impl Field<'_> {
    /// The generated constant's name (`EMAIL`).
    pub(crate) fn const_name(&self) -> String {
        case::screaming_snake_case(&self.ident.unraw().to_string())
    }

    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }
}

/// An enum deriving `PgEnum`.
pub(crate) struct PgEnum<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) type_name: Name,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// A variant of a `PgEnum`.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) label: Name,
}

impl<'a> PgEnum<'a> {
    /// Reads a `#[derive(PgEnum)]` input. Returns `None` when the input is
    /// not an enum (the error is in `cx`).
    pub(crate) fn from_input(cx: &Ctxt, input: &'a DeriveInput) -> Option<PgEnum<'a>> {
        let data = match &input.data {
            Data::Enum(data) => data,
            Data::Struct(data) => {
                cx.error_at(
                    data.struct_token.span,
                    "`PgEnum` is derived on enums whose variants have no fields; for a table use `#[derive(TenantModel)]`",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span,
                    "`PgEnum` is derived on enums whose variants have no fields, not unions",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(&input.generics, "a `PgEnum` cannot be generic");
        }
        let attrs = attr::enum_attrs(cx, &input.attrs);
        let type_name = match attrs.type_name {
            Some(name) => name.value,
            None => Name {
                value: case::snake_case(&input.ident.unraw().to_string()),
                span: input.ident.span(),
            },
        };
        let variants = data
            .variants
            .iter()
            .map(|variant| {
                if !matches!(variant.fields, Fields::Unit) {
                    cx.error_spanned_by(
                        &variant.fields,
                        format!(
                            "`PgEnum` variants cannot have fields: PostgreSQL enum values are labels (`{}` has fields)",
                            variant.ident
                        ),
                    );
                }
                let attrs = attr::variant_attrs(cx, &variant.attrs);
                let label = match attrs.rename {
                    Some(name) => name.value,
                    None => Name {
                        value: case::snake_case(&variant.ident.unraw().to_string()),
                        span: variant.ident.span(),
                    },
                };
                Variant {
                    ident: &variant.ident,
                    label,
                }
            })
            .collect();
        if data.variants.is_empty() {
            cx.error_spanned_by(
                &input.ident,
                "a `PgEnum` needs at least one variant: PostgreSQL enum types have labels",
            );
        }
        Some(PgEnum {
            ident: &input.ident,
            type_name,
            variants,
        })
    }

    pub(crate) fn rust_name(&self) -> String {
        self.ident.unraw().to_string()
    }
}
