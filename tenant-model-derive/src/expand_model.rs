//! Code generation for `#[derive(TenantModel)]`, from a checked [`Model`].
//!
//! The output (inside `const _: () = { ... };`):
//! 1. `impl Model for S`: the static `ModelDef`, the SQL cache, row decoding
//!    and parameter lists;
//! 2. `impl S { const EMAIL: Column<S, String> = ...; ... }`: one typed
//!    column constant per field plus one per system column the derive adds;
//! 3. compile-time assertions on field types (`max_length` on text,
//!    system columns with the right type, each `default` fits its column)
//!    and on referenced models (`references` / `soft_delete(by)`: a
//!    single-column key of the field's type; from a global model, no
//!    tenant model).
//!
//! Every use of a field's type goes through `<T as ColumnField>`, spanned at
//! the type, so an unsupported type gives one error, at the type, with
//! `ColumnType`'s message. Only that path carries the user's span: locals
//! (`__row`) and `self` are made once, with the call site's hygiene, so the
//! derive also works when a `macro_rules!` macro invokes it.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Field, Model, Scope, SystemColumn};
use crate::attr::{DefaultLit, IndexAttr, Keyed, OnDelete, UniqueAttr};
use crate::dummy::{private, respan, wrap_in_const};

pub(crate) fn expand(model: &Model) -> TokenStream {
    let model_impl = model_impl(model);
    let columns = column_consts(model);
    let assertions = assertions(model);
    let relations = crate::expand_relation::expand(model);
    let new_row = crate::expand_new_row::expand(model);
    wrap_in_const(quote! {
        #model_impl
        #new_row
        #columns
        #assertions
        #relations
    })
}

fn model_impl(model: &Model) -> TokenStream {
    let p = private();
    let ident = model.ident;
    let def = model_def(model);
    let relations = crate::expand_relation::relation_defs(model);
    let table_refs = crate::expand_relation::table_refs(model);

    // Only the `<T as ColumnField>` path carries the type's span (so an
    // unsupported type is reported there); the locals and `self` around it
    // keep one hygiene, also when the derive runs inside a `macro_rules!`.
    let row = format_ident!("__row");
    let rows = format_ident!("__rows");
    let this = quote!(self);
    let offset = format_ident!("__offset");
    let decode = model.fields.iter().enumerate().map(|(index, field)| {
        let name = field.ident;
        let index = Literal::usize_unsuffixed(index);
        let field = column_field(field.ty);
        quote!(#name: #field::decode(#row, #offset + #index)?)
    });
    let param = |field: &Field| {
        let name = field.ident;
        let column = column_field(field.ty);
        quote!(#column::param(&#this.#name))
    };
    let insert_values = model.writable_fields().map(param);
    let key_values = model.primary_key().map(param);
    let key_types: Vec<_> = model.primary_key().map(|f| f.ty).collect();
    let key = match key_types.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many,)*)),
    };
    let insert_arrays = model.writable_fields().map(|field| {
        let name = field.ident;
        let column = column_field(field.ty);
        quote!(#column::array(#rows, |#row| &#row.#name))
    });

    quote! {
        #[automatically_derived]
        impl #p::Model for #ident {
            const DEF: &'static #p::ModelDef = &#def;
            #table_refs

            type Key = #key;

            fn sql() -> &'static #p::ModelSql {
                static SQL: #p::OnceLock<#p::ModelSql> = #p::OnceLock::new();
                SQL.get_or_init(|| #p::ModelSql::new(<Self as #p::Model>::DEF))
            }

            fn from_row(#row: &#p::Row) -> ::core::result::Result<Self, #p::Error> {
                <Self as #p::Model>::from_row_at(#row, 0)
            }

            fn from_row_at(
                #row: &#p::Row,
                #offset: ::core::primitive::usize,
            ) -> ::core::result::Result<Self, #p::Error> {
                ::core::result::Result::Ok(Self {
                    #(#decode,)*
                })
            }

            fn relations() -> &'static [#p::RelationDef] {
                #relations
            }

            fn insert_values(&self) -> ::std::vec::Vec<#p::Param<'_>> {
                ::std::vec![#(#insert_values),*]
            }

            fn insert_arrays(#rows: &[Self]) -> ::std::vec::Vec<#p::BoxedParam<'_>> {
                ::std::vec![#(#insert_arrays),*]
            }

            fn key_values(&self) -> ::std::vec::Vec<#p::Param<'_>> {
                ::std::vec![#(#key_values),*]
            }
        }
    }
}

fn model_def(model: &Model) -> TokenStream {
    let p = private();
    let rust_name = model.rust_name();
    let table = &model.table.value;
    let scope = match model.scope {
        Scope::Tenant => quote!(#p::Scope::Tenant),
        Scope::Global => quote!(#p::Scope::Global),
    };
    let fields = model.fields.iter().map(column_def);
    let primary_key = model.primary_key().map(|f| &f.column.value);

    let uniques = model
        .attrs
        .uniques
        .iter()
        .map(|u| unique_def(&u.value))
        .chain(
            model
                .fields
                .iter()
                .filter(|f| f.attrs.unique.is_some())
                .map(|f| {
                    let column = &f.column.value;
                    quote! {
                        #p::UniqueDef {
                            name: ::core::option::Option::None,
                            columns: &[#column],
                            predicate: ::core::option::Option::None,
                            include_deleted: false,
                        }
                    }
                }),
        );
    let indexes = model
        .attrs
        .indexes
        .iter()
        .map(|i| index_def(&i.value))
        .chain(
            model
                .fields
                .iter()
                .filter(|f| f.attrs.index.is_some())
                .map(|f| {
                    let column = &f.column.value;
                    quote! {
                        #p::IndexDef {
                            name: ::core::option::Option::None,
                            columns: &[#p::IndexColumn { name: #column, desc: false }],
                            predicate: ::core::option::Option::None,
                            method: ::core::option::Option::None,
                            tenant_prefix: true,
                        }
                    }
                }),
        );
    let foreign_keys = model.fields.iter().filter_map(|f| {
        let target = model_fn(&f.attrs.references.as_ref()?.value);
        let column = &f.column.value;
        let on_delete = f
            .attrs
            .on_delete
            .as_ref()
            .map_or(OnDelete::NoAction, |o| o.value);
        let on_delete = format_ident!("{}", on_delete.variant());
        Some(quote! {
            #p::ForeignKeyDef {
                column: #column,
                target: #target,
                on_delete: #p::OnDelete::#on_delete,
            }
        })
    });
    let soft_delete = match &model.attrs.soft_delete {
        None => quote!(::core::option::Option::None),
        Some(_) => {
            let by = match model.soft_delete_by() {
                Some(by) => {
                    let by = model_fn(by);
                    quote!(::core::option::Option::Some(#by))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::core::option::Option::Some(#p::SoftDeleteDef { by: #by }))
        }
    };
    let link = match model.attrs.link.as_ref().map(|l| l.value.as_slice()) {
        Some([left, right]) => {
            let (left, right) = (model_fn(left), model_fn(right));
            quote!(::core::option::Option::Some(#p::LinkDef { left: #left, right: #right }))
        }
        _ => quote!(::core::option::Option::None),
    };

    quote! {
        #p::ModelDef {
            rust_name: #rust_name,
            table: #table,
            scope: #scope,
            fields: &[#(#fields),*],
            primary_key: &[#(#primary_key),*],
            uniques: &[#(#uniques),*],
            indexes: &[#(#indexes),*],
            foreign_keys: &[#(#foreign_keys),*],
            soft_delete: #soft_delete,
            link: #link,
        }
    }
}

/// `<T as ColumnField>`, spanned at the field's type: every use of a
/// field's type goes through it, so an unsupported type is one error there.
fn column_field(ty: &syn::Type) -> TokenStream {
    let p = private();
    quote_spanned!(ty.span()=> <#ty as #p::ColumnField>)
}

/// `<Target as Model>::def`, spanned at the path so that a type that is not
/// a model is reported there.
fn model_fn(path: &syn::Path) -> TokenStream {
    let p = private();
    quote_spanned!(path.span()=> <#path as #p::Model>::def)
}

fn column_def(field: &Field) -> TokenStream {
    let p = private();
    let ty = field.ty;
    let name = field.name();
    let column = &field.column.value;
    let max_length = option(field.attrs.max_length.as_ref().map(|m| {
        let n = Literal::u32_unsuffixed(m.value);
        quote!(#n)
    }));
    let default = match (&field.attrs.default, &field.attrs.default_sql) {
        (Some(default), _) => Some(default_value(&default.value.lit)),
        (None, Some(sql)) => {
            let sql = &sql.value.value;
            Some(quote!(#p::DefaultValue::Expr(#sql)))
        }
        (None, None) => None,
    };
    let default = option(default);
    let primary_key = field.attrs.primary_key.is_some();
    let system = option(field.system.map(|c| {
        let variant = format_ident!("{}", c.variant());
        quote!(#p::SystemColumn::#variant)
    }));
    let column_field = column_field(ty);
    quote! {
        #p::ColumnDef {
            field: #name,
            name: #column,
            sql_type: #column_field::SQL_TYPE,
            nullable: #column_field::NULLABLE,
            max_length: #max_length,
            default: #default,
            primary_key: #primary_key,
            system: #system,
        }
    }
}

pub(crate) fn default_value(lit: &DefaultLit) -> TokenStream {
    let p = private();
    match lit {
        DefaultLit::Bool(b) => quote!(#p::DefaultValue::Bool(#b)),
        DefaultLit::Int(i) => {
            let i = Literal::i64_unsuffixed(*i);
            quote!(#p::DefaultValue::Int(#i))
        }
        DefaultLit::Float(f) => quote!(#p::DefaultValue::Float(#f)),
        DefaultLit::Str(s) => quote!(#p::DefaultValue::Str(#s)),
    }
}

fn unique_def(unique: &UniqueAttr) -> TokenStream {
    let p = private();
    let name = option_str(unique.name.as_ref());
    let columns = unique.columns.iter().map(|c| &c.value);
    let predicate = option_str(unique.predicate.as_ref());
    let include_deleted = unique.include_deleted.as_ref().is_some_and(|i| i.value);
    quote! {
        #p::UniqueDef {
            name: #name,
            columns: &[#(#columns),*],
            predicate: #predicate,
            include_deleted: #include_deleted,
        }
    }
}

fn index_def(index: &IndexAttr) -> TokenStream {
    let p = private();
    let name = option_str(index.name.as_ref());
    let columns = index.columns.iter().map(|c| {
        let name = &c.name.value;
        let desc = c.desc;
        quote!(#p::IndexColumn { name: #name, desc: #desc })
    });
    let predicate = option_str(index.predicate.as_ref());
    let method = option_str(index.method.as_ref());
    let tenant_prefix = index.tenant_prefix.as_ref().is_none_or(|t| t.value);
    quote! {
        #p::IndexDef {
            name: #name,
            columns: &[#(#columns),*],
            predicate: #predicate,
            method: #method,
            tenant_prefix: #tenant_prefix,
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn option_str(value: Option<&Keyed<crate::attr::Name>>) -> TokenStream {
    option(value.map(|v| {
        let s = &v.value.value;
        quote!(#s)
    }))
}

/// `impl S { pub const EMAIL: Column<S, String> = Column::new("email"); ... }`
fn column_consts(model: &Model) -> TokenStream {
    let p = private();
    let ident = model.ident;
    let fields = model.fields.iter().map(|field| {
        let vis = field.vis;
        let ty = field.ty;
        let name = format_ident!("{}", field.const_name());
        let column = &field.column.value;
        let doc = match field.system {
            Some(_) => format!(" The `{column}` column (managed by tenant-model)."),
            None => format!(" The `{column}` column."),
        };
        quote! {
            #[doc = #doc]
            #vis const #name: #p::Column<#ident, #ty> = #p::Column::new(#column);
        }
    });
    let vis = model.vis;
    let system = model.added_system_columns().map(|c| {
        let name = format_ident!("{}", c.const_name());
        let column = c.name();
        let ty = system_type(c);
        let doc = format!(" The `{column}` column (added and managed by tenant-model).");
        quote! {
            #[doc = #doc]
            #vis const #name: #p::Column<#ident, #ty> = #p::Column::new(#column);
        }
    });
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #(#fields)*
            #(#system)*
        }
    }
}

/// The Rust type of a system column the derive adds.
pub(crate) fn system_type(c: SystemColumn) -> TokenStream {
    let p = private();
    match c {
        SystemColumn::TenantId => quote!(#p::TenantId),
        SystemColumn::CreatedAt | SystemColumn::UpdatedAt => {
            quote!(#p::DateTime<#p::Utc>)
        }
        SystemColumn::IsDeleted => quote!(::core::primitive::bool),
        SystemColumn::DeletedAt => {
            quote!(::core::option::Option<#p::DateTime<#p::Utc>>)
        }
        SystemColumn::DeletedById => quote!(::core::option::Option<#p::Uuid>),
    }
}

/// `const _: () = { assert_text::<String>(); ... };`: type checks that
/// depend on attributes, each spanned at the field's type.
fn assertions(model: &Model) -> TokenStream {
    let p = private();
    let mut checks = Vec::new();
    for field in &model.fields {
        let ty = field.ty;
        let span = ty.span();
        if let Some(system) = field.system {
            let marker = format_ident!("{}", system.marker());
            checks.push(quote_spanned! {span=>
                #p::assert_system_column::<#ty, #p::system::#marker>();
            });
        }
        if field.attrs.max_length.is_some() {
            checks.push(quote_spanned! {span=> #p::assert_text::<#ty>(); });
        }
        if let Some(references) = &field.attrs.references {
            let path = &references.value;
            // A relation's handle checks the key type itself (it converts
            // the field to the key), so the check is not made twice.
            let relation = model.belongs_to().any(|(f, _, _)| f.ident == field.ident);
            checks.push(reference_checks(model, quote!(#ty), path, !relation));
        }
        if field.attrs.on_delete.as_ref().map(|o| o.value) == Some(OnDelete::SetNull) {
            checks.push(quote_spanned! {span=> #p::assert_nullable::<#ty>(); });
        }
    }
    // Each const-evaluated check in its own const (evaluation stops at the
    // first panic), spanned at the attribute it checks.
    let keys = model.fields.iter().filter_map(|field| {
        let key = field.attrs.primary_key.as_ref()?.key;
        let ty = field.ty;
        let check = respan(quote!(#p::check_primary_key), key);
        let column_field = column_field(ty);
        let nullable = quote!(#column_field::NULLABLE);
        Some(quote_spanned! {key=>
            const _: () = #check(#nullable);
        })
    });
    let defaults = model.fields.iter().filter_map(|field| {
        let default = &field.attrs.default.as_ref()?.value;
        let ty = field.ty;
        let check = respan(quote!(#p::check_default), default.span);
        let value = respan(default_value(&default.lit), default.span);
        let column_field = column_field(ty);
        let sql_type = quote!(#column_field::SQL_TYPE);
        Some(quote_spanned! {default.span=>
            const _: () = #check(#sql_type, #value);
        })
    });
    if let Some(by) = model.soft_delete_by() {
        let deleted_by = system_type(SystemColumn::DeletedById);
        checks.push(reference_checks(model, deleted_by, by, true));
    }
    let scopes = global_reference_checks(model);
    let checks = (!checks.is_empty()).then(|| {
        quote! {
            const _: () = {
                #(#checks)*
            };
        }
    });
    quote! {
        #checks
        #(#keys)*
        #(#defaults)*
        #scopes
    }
}

/// The model a `references` / `by` path names, as a type usable outside
/// the impl (`Self` becomes the struct's name).
pub(crate) fn target_type(model: &Model, path: &syn::Path) -> TokenStream {
    if path.is_ident("Self") {
        let ident = model.ident;
        respan(quote!(#ident), path.span())
    } else {
        quote!(#path)
    }
}

/// `references = M` (or `by = M`) on a column of type `column_ty`: `M` has
/// a single-column key of the column's type. rustc reports a failure at
/// `M`'s key, that is at `M` in the attribute.
fn reference_checks(
    model: &Model,
    column_ty: TokenStream,
    path: &syn::Path,
    key_type: bool,
) -> TokenStream {
    let p = private();
    let target = target_type(model, path);
    // The key as a projection: a path that is not a model then fails only
    // `T: Model`, as `model_fn` does, and rustc reports that once.
    let key = quote_spanned!(path.span()=> <#target as #p::Model>::Key);
    let key_type = key_type.then(|| quote!(#p::assert_key_type::<#column_ty, #key, #target>();));
    quote! {
        #p::assert_single_key::<#key, #target>();
        #key_type
    }
}

/// On a `global` model, every model it references (or records in
/// `soft_delete(by = ...)`) must not be tenant-scoped; const-evaluated,
/// reported at the referenced model's name.
fn global_reference_checks(model: &Model) -> TokenStream {
    if model.scope != Scope::Global {
        return TokenStream::new();
    }
    let p = private();
    let references = model
        .fields
        .iter()
        .filter_map(|f| f.attrs.references.as_ref())
        .map(|r| (&r.value, quote!(#p::check_global_reference)));
    let by = model
        .soft_delete_by()
        .map(|by| (by, quote!(#p::check_global_deleted_by)));
    let checks = references
        .chain(by)
        .filter(|(path, _)| !path.is_ident("Self") && !path.is_ident(model.ident))
        .map(|(path, check)| {
            let span = path.span();
            let check = respan(quote!(#check(<#path as #p::Model>::DEF.scope)), span);
            quote_spanned! {span=> const _: () = #check; }
        });
    quote!(#(#checks)*)
}
