//! Cross-field validation: the rules that involve more than one key or
//! field. Runs after parsing, before code generation; every violation is
//! recorded in the [`Ctxt`], pointing at the offending token.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::Span;

use crate::ast::{Model, PgEnum, Scope, SystemColumn};
use crate::attr::{Name, OnDelete};
use crate::ctxt::Ctxt;

/// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1).
const MAX_IDENT_BYTES: usize = 63;

pub(crate) fn model(cx: &Ctxt, model: &Model) {
    identifier_length(cx, &model.table, "table name");
    primary_key(cx, model);
    fields(cx, model);
    column_names(cx, model);
    const_names(cx, model);
    uniques_and_indexes(cx, model);
    link(cx, model);
    relations(cx, model);
}

pub(crate) fn pg_enum(cx: &Ctxt, pg_enum: &PgEnum) {
    identifier_length(cx, &pg_enum.type_name, "type name");
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for variant in &pg_enum.variants {
        if variant.label.value.len() > MAX_IDENT_BYTES {
            cx.error_at(
                variant.label.span,
                format!("enum labels are limited to {MAX_IDENT_BYTES} bytes in PostgreSQL"),
            );
        }
        if let Some(first) = seen.insert(&variant.label.value, variant.ident) {
            cx.error_at(
                variant.label.span,
                format!(
                    "duplicate enum label `{}` (also used by `{first}`)",
                    variant.label.value
                ),
            );
        }
    }
}

fn identifier_length(cx: &Ctxt, name: &Name, what: &str) {
    if name.value.len() > MAX_IDENT_BYTES {
        cx.error_at(
            name.span,
            format!(
                "the {what} `{}` is longer than {MAX_IDENT_BYTES} bytes, PostgreSQL's identifier limit",
                name.value
            ),
        );
    }
}

fn primary_key(cx: &Ctxt, model: &Model) {
    if model.primary_key().next().is_none() {
        cx.error_at(
            model.ident.span(),
            format!(
                "`{}` has no primary key: mark its key field(s) with `#[tenant_model(primary_key)]`",
                model.ident
            ),
        );
    }
}

fn fields(cx: &Ctxt, model: &Model) {
    for field in &model.fields {
        let attrs = &field.attrs;
        identifier_length(cx, &field.column, "column name");
        if let (Some(_), Some(sql)) = (&attrs.default, &attrs.default_sql) {
            cx.error_at(
                sql.key,
                "`default` and `default_sql` cannot both be set: keep one",
            );
        }
        if let (Some(on_delete), None) = (&attrs.on_delete, &attrs.references) {
            cx.error_at(
                on_delete.key,
                "`on_delete` needs `references = Model` on the same field",
            );
        }
        if let Some(on_delete) = &attrs.on_delete {
            if on_delete.value == OnDelete::SetDefault
                && attrs.default.is_none()
                && attrs.default_sql.is_none()
            {
                cx.error_at(
                    on_delete.key,
                    "`on_delete = set_default` needs a `default` or `default_sql` on this field",
                );
            }
        }
        let Some(system) = field.system else {
            continue;
        };
        if !model.has_system_column(system) {
            let why = if system == SystemColumn::TenantId {
                format!(
                    "`tenant_id` is not a column of a `global` model: `{}` is shared by all tenants",
                    model.ident
                )
            } else {
                format!(
                    "`{}` is a soft-delete column: add `#[tenant_model(soft_delete)]` to the struct, or rename the field",
                    system.name()
                )
            };
            cx.error_at(field.column.span, why);
        }
        if system == SystemColumn::TenantId && model.scope == Scope::Tenant {
            let keys = [
                attrs.unique.as_ref().map(|k| ("unique", k.key)),
                attrs.index.as_ref().map(|k| ("index", k.key)),
            ];
            for (key, span) in keys.into_iter().flatten() {
                cx.error_at(
                    span,
                    format!(
                        "`{key}` on `tenant_id` would make a key of `(tenant_id, tenant_id)`: every `{key}` of a tenant model starts with `tenant_id` already, and the primary key `(tenant_id, ...)` indexes it"
                    ),
                );
            }
        }
        let managed = [
            attrs.primary_key.as_ref().map(|k| ("primary_key", k.key)),
            attrs.max_length.as_ref().map(|k| ("max_length", k.key)),
            attrs.default.as_ref().map(|k| ("default", k.key)),
            attrs.default_sql.as_ref().map(|k| ("default_sql", k.key)),
            attrs.references.as_ref().map(|k| ("references", k.key)),
            attrs.on_delete.as_ref().map(|k| ("on_delete", k.key)),
        ];
        for (key, span) in managed.into_iter().flatten() {
            cx.error_at(
                span,
                format!(
                    "`{key}` cannot be set on `{}`: tenant-model manages this column",
                    system.name()
                ),
            );
        }
    }
}

/// Two fields may not map to the same column.
fn column_names(cx: &Ctxt, model: &Model) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for field in &model.fields {
        if let Some(first) = seen.insert(&field.column.value, field.ident) {
            cx.error_at(
                field.column.span,
                format!(
                    "column `{}` is already mapped by field `{first}`",
                    field.column.value
                ),
            );
        }
    }
}

/// The associated items `impl Model` gives every model that a column
/// constant could shadow (`User::DEF`), with what they are.
const MODEL_ITEMS: [(&str, &str); 1] = [("DEF", "the model's table description")];

/// The generated constants must not clash: `fooBar` and `foo_bar` both give
/// `FOO_BAR`, and a field named `created_at` mapped to another column would
/// clash with the `CREATED_AT` the derive adds.
fn const_names(cx: &Ctxt, model: &Model) {
    let added: Vec<SystemColumn> = model.added_system_columns().collect();
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for field in &model.fields {
        let name = field.const_name();
        if let Some((_, what)) = MODEL_ITEMS.iter().find(|(item, _)| *item == name) {
            cx.error_at(
                field.ident.span(),
                format!(
                    "field `{}` would give the constant `{}::{name}`, which clashes with `Model::{name}` ({what}); rename the field and keep the column name with `#[tenant_model(column = \"{}\")]`",
                    field.ident, model.ident, field.column.value,
                ),
            );
        }
        if let Some(system) = added.iter().find(|c| c.const_name() == name) {
            cx.error_at(
                field.ident.span(),
                format!(
                    "field `{}` would clash with the generated `{name}` constant of the `{}` column tenant-model adds; map it to that column (drop `column = ...`) or rename the field",
                    field.ident,
                    system.name()
                ),
            );
        }
        if let Some(first) = seen.insert(name.clone(), field.ident) {
            cx.error_at(
                field.ident.span(),
                format!(
                    "fields `{first}` and `{}` both give the constant `{name}`",
                    field.ident
                ),
            );
        }
    }
}

fn uniques_and_indexes(cx: &Ctxt, model: &Model) {
    let known: BTreeSet<&str> = model
        .fields
        .iter()
        .map(|f| f.column.value.as_str())
        .chain(
            SystemColumn::ALL
                .into_iter()
                .filter(|c| model.has_system_column(*c))
                .map(|c| c.name()),
        )
        .collect();
    let tenant = model.scope == Scope::Tenant;
    for unique in &model.attrs.uniques {
        let columns: Vec<&Name> = unique.value.columns.iter().collect();
        key_columns(cx, model, &known, "unique", unique.key, &columns);
        if let (false, Some(include)) = (model.has_soft_delete(), &unique.value.include_deleted) {
            cx.error_at(
                include.key,
                "`include_deleted` only applies to models with `soft_delete`; without it every row is live",
            );
        }
        if tenant {
            no_tenant_id(cx, "unique", &columns, "");
        }
    }
    for index in &model.attrs.indexes {
        let columns: Vec<&Name> = index.value.columns.iter().map(|c| &c.name).collect();
        key_columns(cx, model, &known, "index", index.key, &columns);
        // Mirrors the emitter: btree indexes of tenant models lead with
        // `tenant_id` unless `tenant_prefix = false`.
        let btree = index
            .value
            .method
            .as_ref()
            .is_none_or(|m| m.value.value == "btree");
        let prefixed = index.value.tenant_prefix.as_ref().is_none_or(|p| p.value);
        if tenant && btree && prefixed {
            no_tenant_id(
                cx,
                "index",
                &columns,
                " (or add `tenant_prefix = false` to place it yourself)",
            );
        }
        if let (Scope::Global, Some(prefix)) = (model.scope, &index.value.tenant_prefix) {
            cx.error_at(
                prefix.key,
                "`tenant_prefix` only applies to tenant models; this model is `global`",
            );
        }
    }
}

/// `tenant_id` in a key that tenant-model already starts with `tenant_id`
/// (it would be emitted twice).
fn no_tenant_id(cx: &Ctxt, what: &str, columns: &[&Name], alternative: &str) {
    let tenant_id = SystemColumn::TenantId.name();
    for column in columns.iter().filter(|c| c.value == tenant_id) {
        cx.error_at(
            column.span,
            format!(
                "`{tenant_id}` is put in front of every `{what}` of a tenant model already: list only the other columns (`{what}(email)` covers `({tenant_id}, email)`){alternative}"
            ),
        );
    }
}

/// The columns of one `unique(...)` or `index(...)`: known, distinct, and
/// at least one.
fn key_columns(
    cx: &Ctxt,
    model: &Model,
    known: &BTreeSet<&str>,
    what: &str,
    key: Span,
    columns: &[&Name],
) {
    if columns.is_empty() {
        cx.error_at(
            key,
            format!("`{what}` needs at least one column: `{what}(column, ...)`"),
        );
    }
    let mut used = BTreeSet::new();
    for column in columns {
        if !known.contains(column.value.as_str()) {
            if let Some(field) = model.fields.iter().find(|f| f.name() == column.value) {
                cx.error_at(
                    column.span,
                    format!(
                        "unknown column `{}` in `{what}`: field `{}` is stored in column `{}`, and `{what}` names columns",
                        column.value, field.ident, field.column.value,
                    ),
                );
                continue;
            }
            let list = known
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            cx.error_at(
                column.span,
                format!(
                    "unknown column `{}` in `{what}`; the columns of `{}` are: {list}",
                    column.value, model.table.value,
                ),
            );
        } else if !used.insert(column.value.as_str()) {
            cx.error_at(
                column.span,
                format!("column `{}` appears twice in this `{what}`", column.value),
            );
        }
    }
}

fn link(cx: &Ctxt, model: &Model) {
    if let Some(link) = &model.attrs.link {
        if link.value.len() != 2 {
            cx.error_at(
                link.key,
                format!(
                    "`link` joins exactly two models: `link(ModelA, ModelB)` (found {})",
                    link.value.len()
                ),
            );
        }
    }
}

/// Relations: `relation` needs `references`; `has_many` takes `via`,
/// `many_to_many` needs `through`; each names one model; their constants
/// clash neither with each other nor with the column constants.
fn relations(cx: &Ctxt, model: &Model) {
    for field in &model.fields {
        if let (Some(relation), None) = (&field.attrs.relation, &field.attrs.references) {
            cx.error_at(
                relation.key,
                "`relation` names the relation of a `references = Model` field; add `references` to this field",
            );
        }
    }
    for (kind, list) in [
        ("has_many", &model.attrs.has_many),
        ("many_to_many", &model.attrs.many_to_many),
    ] {
        for relation in list {
            let r = &relation.value;
            if r.target.is_none() && !r.invalid {
                cx.error_at(
                    relation.key,
                    format!("`{kind}` needs a name and a model: `{kind}(teams = Team)`"),
                );
            }
            match (kind, &r.via, &r.through) {
                ("has_many", _, Some(through)) => cx.error_at(
                    through.key,
                    "`through` belongs to `many_to_many(name = Model, through = LinkModel)`",
                ),
                ("many_to_many", Some(via), _) => cx.error_at(
                    via.key,
                    "`via` belongs to `has_many`; a many-to-many relation follows its link model's references",
                ),
                ("many_to_many", _, None) => cx.error_at(
                    relation.key,
                    "`many_to_many` needs its link model: `many_to_many(teams = Team, through = UserTeamLink)`",
                ),
                _ => {}
            }
            if r.target.is_some() && model.single_key().is_none() {
                cx.error_at(
                    relation.key,
                    format!("`{kind}` needs a model with a single-column primary key (the related rows reference it)"),
                );
            }
        }
    }
    // Every constant the derive generates, then the relations' ones.
    let mut taken: HashMap<String, String> = model
        .fields
        .iter()
        .map(|f| {
            (
                f.const_name(),
                format!("the constant of field `{}`", f.ident),
            )
        })
        .chain(model.added_system_columns().map(|c| {
            (
                c.const_name(),
                format!("the constant of the `{}` column", c.name()),
            )
        }))
        .chain(
            MODEL_ITEMS
                .iter()
                .map(|(item, what)| ((*item).to_owned(), format!("`Model::{item}` ({what})"))),
        )
        .collect();
    let belongs = model
        .belongs_to()
        .map(|(_, _, name)| (name, "`relation = \"...\"` on the field"));
    let declared = model
        .declared_relations()
        .map(|r| (r.name.clone(), "another name in the relation"));
    for (name, fix) in belongs.chain(declared) {
        let const_name = crate::case::screaming_snake_case(&name.value);
        if syn::parse_str::<syn::Ident>(&const_name).is_err() {
            cx.error_at(
                name.span,
                format!("the relation name `{}` is not an identifier", name.value),
            );
            continue;
        }
        if let Some(what) = taken.get(&const_name) {
            cx.error_at(
                name.span,
                format!(
                    "the relation `{}` would give the constant `{}::{const_name}`, which clashes with {what}; choose {fix}",
                    name.value, model.ident
                ),
            );
            continue;
        }
        taken.insert(const_name, format!("the relation `{}`", name.value));
    }
}
