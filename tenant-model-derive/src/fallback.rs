//! Output on error (thiserror's `fallback.rs`): the `compile_error!`s plus a
//! stub of what the derive would have generated, so the rest of the user's
//! code still type-checks and the build shows the real mistakes, not a
//! cascade of "`User` is not a model" and "no constant `EMAIL`" errors.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields};

use crate::ast::SystemColumn;
use crate::attr;
use crate::case;
use crate::ctxt::Ctxt;
use crate::dummy::{private, wrap_in_const};
use crate::expand_model::system_type;

/// For `#[derive(TenantModel)]`.
pub(crate) fn model(input: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.into_compile_error();
    let Some(input) = stub_target(input) else {
        return errors;
    };
    let p = private();
    let ident = &input.ident;
    let rust_name = ident.to_string();
    let unreachable =
        quote!(::core::unreachable!("`{}` failed to derive `TenantModel`", #rust_name));

    // The column constants, so that `User::EMAIL` in the user's code does not
    // add errors of its own.
    let mut consts = Vec::new();
    let mut names = Vec::new();
    if let Data::Struct(data) = &input.data {
        if let Fields::Named(fields) = &data.fields {
            for field in &fields.named {
                let Some(field_ident) = &field.ident else {
                    continue;
                };
                let name =
                    case::screaming_snake_case(&syn::ext::IdentExt::unraw(field_ident).to_string());
                if names.contains(&name) {
                    continue;
                }
                let (vis, ty) = (&field.vis, &field.ty);
                let column = field_ident.to_string();
                let const_ident = format_ident!("{}", name);
                consts.push(quote! {
                    #[doc = " A column (the derive failed; see the errors above)."]
                    #vis const #const_ident: #p::Column<#ident, #ty> = #p::Column::new(#column);
                });
                names.push(name);
            }
        }
    }
    let vis = &input.vis;
    for c in SystemColumn::ALL {
        let name = c.const_name();
        if names.contains(&name) {
            continue;
        }
        let (const_ident, ty, column) = (format_ident!("{}", name), system_type(c), c.name());
        consts.push(quote! {
            #[doc = " A column (the derive failed; see the errors above)."]
            #vis const #const_ident: #p::Column<#ident, #ty> = #p::Column::new(#column);
        });
    }
    consts.extend(relation_stubs(&input, &mut names));
    let consts = match &input.data {
        Data::Struct(_) => quote! {
            #[automatically_derived]
            #[allow(dead_code)]
            impl #ident {
                #(#consts)*
            }
        },
        _ => TokenStream::new(),
    };

    let stub = wrap_in_const(quote! {
        #[automatically_derived]
        impl #p::Model for #ident
        where
            // Trivial bounds are unstable; the lifetime makes this one not
            // trivial, so a type that is not `Send` adds no error here.
            for<'__stub> #ident: ::core::marker::Send + ::core::marker::Sync + 'static,
        {
            const DEF: &'static #p::ModelDef = &#p::ModelDef {
                rust_name: #rust_name,
                table: "",
                scope: #p::Scope::Tenant,
                fields: &[],
                primary_key: &[],
                uniques: &[],
                indexes: &[],
                foreign_keys: &[],
                soft_delete: ::core::option::Option::None,
                link: ::core::option::Option::None,
            };
            const __REFERENCES: &'static [#p::Reference] = &[#p::Reference::FALLBACK];
            type Key = #p::FallbackKey;
            fn sql() -> &'static #p::ModelSql {
                #unreachable
            }
            fn from_row(_: &#p::Row) -> ::core::result::Result<Self, #p::Error> {
                #unreachable
            }
            fn insert_values(&self) -> ::std::vec::Vec<#p::Param<'_>> {
                #unreachable
            }
            fn insert_arrays(_: &[Self]) -> ::std::vec::Vec<#p::BoxedParam<'_>> {
                #unreachable
            }
            fn key_values(&self) -> ::std::vec::Vec<#p::Param<'_>> {
                #unreachable
            }
        }
        #consts
    });
    quote! {
        #errors
        #stub
    }
}

/// The relation constants the attributes ask for, read leniently (their
/// errors are reported already), so that `Team::ORGANIZATION` in the
/// user's code adds no error of its own. Never used at run time.
fn relation_stubs(input: &DeriveInput, names: &mut Vec<String>) -> Vec<TokenStream> {
    let p = private();
    let ident = &input.ident;
    let vis = &input.vis;
    let cx = Ctxt::new();
    let mut out = Vec::new();
    let def = |name: &str| {
        quote! {
            #p::RelationDef {
                name: #name,
                kind: #p::RelationKind::BelongsTo,
                target: <#ident as #p::Model>::def,
                target_relations: <#ident as #p::Model>::relations,
                column: "",
            }
        }
    };
    let mut add = |name: &str, ty: TokenStream, value: TokenStream, vis: &syn::Visibility| {
        let const_name = case::screaming_snake_case(name);
        if names.contains(&const_name) || syn::parse_str::<syn::Ident>(&const_name).is_err() {
            return;
        }
        let const_ident = format_ident!("{}", const_name);
        out.push(quote! {
            #[doc = " A relation (the derive failed; see the errors above)."]
            #vis const #const_ident: #ty = #value;
        });
        names.push(const_name);
    };
    if let Data::Struct(data) = &input.data {
        for field in &data.fields {
            let Some(field_ident) = &field.ident else {
                continue;
            };
            let attrs = attr::field_attrs(&cx, &field.attrs);
            let Some(target) = attrs.references.map(|r| r.value) else {
                continue;
            };
            let field_name = syn::ext::IdentExt::unraw(field_ident).to_string();
            let name = match attrs.relation {
                Some(relation) => relation.value.value,
                None => match field_name.strip_suffix("_id") {
                    Some(name) => name.to_owned(),
                    None => continue,
                },
            };
            let def = def(&name);
            let value = quote!(#p::BelongsTo::new(#def, |_| ::core::option::Option::None));
            add(
                &name,
                quote!(#p::BelongsTo<#ident, #target>),
                value,
                &field.vis,
            );
        }
    }
    let attrs = attr::model_attrs(&cx, &input.attrs);
    for relation in attrs.has_many.iter().chain(&attrs.many_to_many) {
        let Some((name, target)) = &relation.value.target else {
            continue;
        };
        let def = def(&name.value);
        let key = quote!(|_| #p::FallbackKey);
        let (ty, value) = match &relation.value.through {
            None => (
                quote!(#p::HasMany<#ident, #target>),
                quote!(#p::HasMany::new(#def, #key)),
            ),
            Some(through) => {
                let through = &through.value;
                (
                    quote!(#p::ManyToMany<#ident, #target, #through>),
                    quote!(#p::ManyToMany::new(#def, #key)),
                )
            }
        };
        add(&name.value, ty, value, vis);
    }
    // The attributes' errors are the derive's, reported already.
    let _ = cx.check();
    out
}

/// For `#[derive(PgEnum)]`.
pub(crate) fn pg_enum(input: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.into_compile_error();
    let Some(input) = stub_target(input) else {
        return errors;
    };
    let p = private();
    let pg_types = quote!(#p::postgres_types);
    let ident = &input.ident;
    let rust_name = ident.to_string();
    let unreachable = quote!(::core::unreachable!("`{}` failed to derive `PgEnum`", #rust_name));
    let boxed_error = quote! {
        ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>
    };
    // The lifetime keeps the bound from being trivial (an error if false).
    let bound = quote! {
        for<'__stub> #ident: ::core::fmt::Debug + ::core::marker::Send + ::core::marker::Sync + 'static
    };
    let stub = wrap_in_const(quote! {
        #[automatically_derived]
        impl #p::PgEnum for #ident where #bound {
            const ENUM: &'static #p::EnumDef = &#p::EnumDef {
                rust_name: #rust_name,
                name: "",
                labels: &[],
            };
            fn label(&self) -> &'static ::core::primitive::str {
                #unreachable
            }
            fn from_label(_: &::core::primitive::str) -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }
        }

        #[automatically_derived]
        impl #pg_types::ToSql for #ident where #bound {
            fn to_sql(
                &self,
                _: &#pg_types::Type,
                _: &mut #p::BytesMut,
            ) -> ::core::result::Result<#pg_types::IsNull, #boxed_error> {
                #unreachable
            }
            fn accepts(_: &#pg_types::Type) -> ::core::primitive::bool {
                false
            }
            fn to_sql_checked(
                &self,
                _: &#pg_types::Type,
                _: &mut #p::BytesMut,
            ) -> ::core::result::Result<#pg_types::IsNull, #boxed_error> {
                #unreachable
            }
        }

        #[automatically_derived]
        impl<'a> #pg_types::FromSql<'a> for #ident where #bound {
            fn from_sql(
                _: &#pg_types::Type,
                _: &'a [::core::primitive::u8],
            ) -> ::core::result::Result<Self, #boxed_error> {
                #unreachable
            }
            fn accepts(_: &#pg_types::Type) -> ::core::primitive::bool {
                false
            }
        }

        #[automatically_derived]
        impl #p::ColumnType for #ident where #bound {
            const SQL_TYPE: #p::SqlType =
                #p::SqlType::Scalar(#p::ScalarType::Enum(<Self as #p::PgEnum>::ENUM));
        }

        #[automatically_derived]
        impl #p::ScalarColumn for #ident where #bound {
            const SCALAR: #p::ScalarType = #p::ScalarType::Enum(<Self as #p::PgEnum>::ENUM);
        }
    });
    quote! {
        #errors
        #stub
    }
}

/// The input, when a stub can be generated for it: it parses and is not
/// generic (a generic type's stub would only add errors).
fn stub_target(input: TokenStream) -> Option<DeriveInput> {
    let input: DeriveInput = syn::parse2(input).ok()?;
    let generic = !input.generics.params.is_empty() || input.generics.where_clause.is_some();
    (!generic).then_some(input)
}
