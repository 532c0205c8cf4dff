//! Code generation for relations: the typed handles (`Team::ORGANIZATION`,
//! `Organization::TEAMS`, `User::TEAMS`), the model's references as
//! constants (`Model::__REFERENCES`, which a parent's derive searches), the
//! list of relations (`Model::relations`) and the compile-time checks that
//! a declared relation has the foreign key it follows.
//!
//! A parent's derive cannot see its child's fields, so `has_many(teams =
//! Team)` is checked by const evaluation over `Team`'s references, with
//! the failure respanned to the attribute.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{DeclaredRelation, Model};
use crate::case::screaming_snake_case;
use crate::dummy::{private, respan};
use crate::expand_model::target_type;

/// The handles and the checks, beside the model's other items.
pub(crate) fn expand(model: &Model) -> TokenStream {
    let p = private();
    let ident = model.ident;
    let m = format_ident!("__m");
    let belongs = model.belongs_to().map(|(field, path, name)| {
        let vis = field.vis;
        let (ty, field_ident) = (field.ty, field.ident);
        let const_ident = format_ident!("{}", screaming_snake_case(&name.value));
        let def = belongs_to_def(model, field.column.value.as_str(), path, &name.value);
        // Spanned at the model, like the derive's `KeyReference` check of
        // the field's type (which this replaces for relation fields).
        let target = target_type(model, path);
        let from_field = respan(
            quote!(<<#target as #p::Model>::Key as #p::KeyReference<#ty, #target>>::from_field),
            path.span(),
        );
        let doc = format!(
            " The `{}` relation: the `{}` row that `{}` references (many-to-one).",
            name.value,
            quote!(#path).to_string().replace(' ', ""),
            field.column.value
        );
        // The type spanned at the model too: a target that is not a model
        // then fails `Model` once, there, as the derive's other checks do.
        let handle = respan(quote!(#p::BelongsTo<#ident, #target>), path.span());
        quote! {
            #[doc = #doc]
            #vis const #const_ident: #handle = <#handle>::new(
                #def,
                |#m: &#ident| ::core::option::Option::map(
                    #from_field(&#m.#field_ident),
                    |__key| ::std::boxed::Box::new(__key) as #p::AnyKey,
                ),
            );
        }
    });
    let vis = model.vis;
    let key = model.single_key();
    let declared = model.declared_relations().enumerate().filter_map(|(index, relation)| {
        let key = key?;
        let key_field = key.ident;
        let const_ident = format_ident!("{}", screaming_snake_case(&relation.name.value));
        let target = relation.target;
        let def = declared_def(model, index, &relation);
        let key_fn = quote!(|#m: &#ident| ::core::clone::Clone::clone(&#m.#key_field));
        let target_name = quote!(#target).to_string().replace(' ', "");
        Some(match relation.through {
            None => {
                let doc = format!(
                    " The `{}` relation: the `{target_name}` rows that reference this row (one-to-many).",
                    relation.name.value
                );
                quote! {
                    #[doc = #doc]
                    #vis const #const_ident: #p::HasMany<#ident, #target> =
                        #p::HasMany::new(#def, #key_fn);
                }
            }
            Some(through) => {
                let doc = format!(
                    " The `{}` relation: the `{target_name}` rows linked to this row through `{}` (many-to-many).",
                    relation.name.value,
                    quote!(#through).to_string().replace(' ', "")
                );
                quote! {
                    #[doc = #doc]
                    #vis const #const_ident: #p::ManyToMany<#ident, #target, #through> =
                        #p::ManyToMany::new(#def, #key_fn);
                }
            }
        })
    });
    let checks = model
        .declared_relations()
        .enumerate()
        .map(|(index, r)| checks(model, index, &r));
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #(#belongs)*
            #(#declared)*
        }
        #(#checks)*
    }
}

/// The body of `Model::relations()`: every relation's description.
pub(crate) fn relation_defs(model: &Model) -> TokenStream {
    let p = private();
    let belongs = model
        .belongs_to()
        .map(|(field, path, name)| belongs_to_def(model, &field.column.value, path, &name.value));
    let declared = model
        .declared_relations()
        .enumerate()
        .filter(|_| model.single_key().is_some())
        .map(|(index, r)| declared_def(model, index, &r));
    quote! {
        const __RELATIONS: &[#p::RelationDef] = &[#(#belongs,)* #(#declared,)*];
        __RELATIONS
    }
}

/// `Model::__TABLE` and `Model::__REFERENCES` (items of `impl Model`).
pub(crate) fn table_refs(model: &Model) -> TokenStream {
    let p = private();
    let table = &model.table.value;
    let references = model.fields.iter().filter_map(|field| {
        let path = &field.attrs.references.as_ref()?.value;
        let column = &field.column.value;
        let target = quote_spanned!(path.span()=> <#path as #p::Model>::__TABLE);
        Some(quote! {
            #p::Reference { column: #column, target_table: #target }
        })
    });
    quote! {
        const __TABLE: &'static ::core::primitive::str = #table;
        const __REFERENCES: &'static [#p::Reference] = &[#(#references),*];
    }
}

fn belongs_to_def(model: &Model, column: &str, path: &syn::Path, name: &str) -> TokenStream {
    let p = private();
    let path = target_type(model, path);
    quote! {
        #p::RelationDef {
            name: #name,
            kind: #p::RelationKind::BelongsTo,
            target: <#path as #p::Model>::def,
            target_relations: <#path as #p::Model>::relations,
            column: #column,
        }
    }
}

/// The `RelationDef` of a `has_many` / `many_to_many` (`Self` written as
/// the model's name: it is also used in a `const` nested in a function).
fn declared_def(model: &Model, index: usize, relation: &DeclaredRelation) -> TokenStream {
    let p = private();
    let name = &relation.name.value;
    let target = target_type(model, relation.target);
    let (column, target_column) = column_consts(index);
    let kind = match relation.through {
        None => quote!(#p::RelationKind::HasMany),
        Some(through) => {
            let through = target_type(model, through);
            quote! {
                #p::RelationKind::ManyToMany {
                    through: <#through as #p::Model>::def,
                    through_relations: <#through as #p::Model>::relations,
                    target_column: #target_column,
                }
            }
        }
    };
    quote! {
        #p::RelationDef {
            name: #name,
            kind: #kind,
            target: <#target as #p::Model>::def,
            target_relations: <#target as #p::Model>::relations,
            column: #column,
        }
    }
}

/// The names of the constants holding a declared relation's columns, found
/// at compile time (items of the derive's `const _` block, evaluated once:
/// a failure is one error).
fn column_consts(index: usize) -> (syn::Ident, syn::Ident) {
    (
        format_ident!("__TENANT_MODEL_RELATION_{}_COLUMN", index),
        format_ident!("__TENANT_MODEL_RELATION_{}_TARGET", index),
    )
}

/// The child's column a `has_many` follows, found at compile time; the
/// failure is reported at `via` or at the model.
fn has_many_column(model: &Model, relation: &DeclaredRelation, target: TokenStream) -> TokenStream {
    let p = private();
    let table = &model.table.value;
    let (via, span) = match relation.via {
        Some(via) => {
            let column = &via.value;
            (quote!(::core::option::Option::Some(#column)), via.span)
        }
        None => (quote!(::core::option::Option::None), relation.target.span()),
    };
    respan(
        quote!(#p::find_reference(<#target as #p::Model>::__REFERENCES, #table, #via)),
        span,
    )
}

/// The link model's columns (referencing this model, the target).
fn link_columns(
    model: &Model,
    relation: &DeclaredRelation,
    through: TokenStream,
    target: TokenStream,
) -> (TokenStream, TokenStream) {
    let p = private();
    let table = &model.table.value;
    let through_span = relation.through.map_or(Span::call_site(), |t| t.span());
    let source = respan(
        quote!(#p::find_link_source(<#through as #p::Model>::__REFERENCES, #table)),
        through_span,
    );
    let target_column = respan(
        quote!(#p::find_link_target(
            <#through as #p::Model>::__REFERENCES,
            #table,
            <#target as #p::Model>::__TABLE
        )),
        relation.target.span(),
    );
    (source, target_column)
}

/// The columns a declared relation follows, searched at compile time in
/// constants of their own (see [`column_consts`]); the search is forced
/// here (associated constants are evaluated only when used).
fn checks(model: &Model, index: usize, relation: &DeclaredRelation) -> TokenStream {
    let target = target_type(model, relation.target);
    let (column, target_column) = column_consts(index);
    let str_ty = quote!(&::core::primitive::str);
    match relation.through {
        None => {
            let search = has_many_column(model, relation, target);
            quote! {
                const #column: #str_ty = #search;
                const _: #str_ty = #column;
            }
        }
        Some(through) => {
            let through = target_type(model, through);
            let (source, target_search) = link_columns(model, relation, through, target);
            quote! {
                const #column: #str_ty = #source;
                const #target_column: #str_ty = #target_search;
                const _: (#str_ty, #str_ty) = (#column, #target_column);
            }
        }
    }
}
