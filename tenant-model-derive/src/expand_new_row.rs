//! `impl NewRow for S`: a new row from its required fields, with declared
//! defaults and a new `Uuid` key filled in Rust.
//!
//! Which fields are required is decided from the attributes and, where a
//! string default could be text, JSON or an enum label as well as a date
//! or an array, from the field type's last path segment: a type the
//! runtime has no Rust value for stays required (the safe direction, since
//! a misread alias only makes a field required).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Field, Model};
use crate::attr::DefaultLit;
use crate::dummy::private;

/// How `with_defaults` fills one field.
enum Fill {
    Required,
    NewKey,
    Default,
    None,
}

pub(crate) fn expand(model: &Model) -> TokenStream {
    let p = private();
    let ident = model.ident;
    let single_key = model.single_key().map(|f| f.ident);
    let fills: Vec<(&Field, Fill)> = model
        .fields
        .iter()
        .map(|f| (f, fill(f, single_key == Some(f.ident))))
        .collect();
    let required: Vec<&Field> = fills
        .iter()
        .filter(|(_, fill)| matches!(fill, Fill::Required))
        .map(|(f, _)| *f)
        .collect();
    let types: Vec<&Type> = required.iter().map(|f| f.ty).collect();
    let names: Vec<_> = (0..required.len())
        .map(|i| format_ident!("__required_{}", i))
        .collect();
    let (required_ty, pattern) = match types.len() {
        1 => (quote!(#(#types)*), quote!(#(#names)*)),
        _ => (quote!((#(#types,)*)), quote!((#(#names,)*))),
    };
    let mut next = names.iter();
    let values = fills.iter().map(|(field, fill)| {
        let name = field.ident;
        let ty = field.ty;
        let value = match fill {
            Fill::Required => {
                let local = next.next();
                quote!(#local)
            }
            Fill::NewKey => quote!(#p::new_key()),
            Fill::Default => {
                let default = field
                    .attrs
                    .default
                    .as_ref()
                    .map(|d| crate::expand_model::default_value(&d.value.lit));
                quote!(<#ty as #p::FromDefault>::from_default(#default))
            }
            Fill::None => quote!(::core::option::Option::None),
        };
        quote!(#name: #value)
    });
    let required_param = format_ident!("__required");
    quote! {
        #[automatically_derived]
        impl #p::NewRow for #ident {
            type Required = #required_ty;

            fn with_defaults(#required_param: Self::Required) -> Self {
                let #pattern = #required_param;
                #ident { #(#values,)* }
            }
        }
    }
}

fn fill(field: &Field, single_key: bool) -> Fill {
    if field.system.is_some() {
        return Fill::Required;
    }
    if field.attrs.default_sql.is_some() {
        return Fill::Required;
    }
    if let Some(default) = &field.attrs.default {
        return match default.value.lit {
            DefaultLit::Str(_) if !string_default_in_rust(field.ty) => Fill::Required,
            _ => Fill::Default,
        };
    }
    if single_key && last_segment(field.ty).as_deref() == Some("Uuid") {
        return Fill::NewKey;
    }
    if field.attrs.primary_key.is_none() && last_segment(field.ty).as_deref() == Some("Option") {
        return Fill::None;
    }
    Fill::Required
}

/// Whether a string default on a field of type `ty` has a Rust value: not
/// for the types whose SQL literals are dates, arrays, UUIDs or typed JSON.
fn string_default_in_rust(ty: &Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    !matches!(
        last_segment(ty).as_deref(),
        Some("Vec" | "NaiveDate" | "NaiveDateTime" | "DateTime" | "Uuid" | "TenantId" | "Json")
            | None
    )
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != "Option" {
        return None;
    }
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}
