//! Code generation for `#[derive(PgEnum)]`, from a checked [`PgEnum`].
//!
//! The output (inside `const _: () = { ... };`): `impl PgEnum` (the static
//! `EnumDef` and label conversions), `ToSql` / `FromSql` through the
//! runtime's enum helpers, and `ColumnType` / `ScalarColumn`, so the enum,
//! `Option<E>` and `Vec<E>` can all be columns.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::ast::PgEnum;
use crate::dummy::{private, wrap_in_const};

pub(crate) fn expand(pg_enum: &PgEnum) -> TokenStream {
    let p = private();
    let ident = pg_enum.ident;
    let rust_name = pg_enum.rust_name();
    let type_name = &pg_enum.type_name.value;
    let labels: Vec<&String> = pg_enum.variants.iter().map(|v| &v.label.value).collect();
    let variants: Vec<&syn::Ident> = pg_enum.variants.iter().map(|v| v.ident).collect();
    let pg_types = quote!(#p::postgres_types);
    let boxed_error = quote! {
        ::std::boxed::Box<dyn ::std::error::Error + ::core::marker::Sync + ::core::marker::Send>
    };
    // Spanned at the enum's name: a missing `Debug` (required by `ToSql`)
    // is reported there.
    let to_sql_impl = quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl #pg_types::ToSql for #ident
    };

    wrap_in_const(quote! {
        #[automatically_derived]
        impl #p::PgEnum for #ident {
            const ENUM: &'static #p::EnumDef = &#p::EnumDef {
                rust_name: #rust_name,
                name: #type_name,
                labels: &[#(#labels),*],
            };

            fn label(&self) -> &'static ::core::primitive::str {
                match self {
                    #(Self::#variants => #labels,)*
                }
            }

            fn from_label(__label: &::core::primitive::str) -> ::core::option::Option<Self> {
                match __label {
                    #(#labels => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #to_sql_impl {
            fn to_sql(
                &self,
                _: &#pg_types::Type,
                __out: &mut #p::BytesMut,
            ) -> ::core::result::Result<#pg_types::IsNull, #boxed_error> {
                #p::enum_to_sql(self, __out)
            }

            fn accepts(__ty: &#pg_types::Type) -> ::core::primitive::bool {
                #p::enum_accepts::<Self>(__ty)
            }

            fn to_sql_checked(
                &self,
                __ty: &#pg_types::Type,
                __out: &mut #p::BytesMut,
            ) -> ::core::result::Result<#pg_types::IsNull, #boxed_error> {
                #p::enum_to_sql_checked(self, __ty, __out)
            }
        }

        #[automatically_derived]
        impl<'a> #pg_types::FromSql<'a> for #ident {
            fn from_sql(
                _: &#pg_types::Type,
                __raw: &'a [::core::primitive::u8],
            ) -> ::core::result::Result<Self, #boxed_error> {
                #p::enum_from_sql(__raw)
            }

            fn accepts(__ty: &#pg_types::Type) -> ::core::primitive::bool {
                #p::enum_accepts::<Self>(__ty)
            }
        }

        // `ColumnType` needs `ToSql`, which needs `Debug`: without `Debug`,
        // the `ToSql` impl above reports it once; this bound (not trivial
        // thanks to the lifetime) keeps these two impls from repeating it.
        #[automatically_derived]
        impl #p::ColumnType for #ident
        where
            for<'__bound> #ident: ::core::fmt::Debug,
        {
            const SQL_TYPE: #p::SqlType =
                #p::SqlType::Scalar(#p::ScalarType::Enum(<Self as #p::PgEnum>::ENUM));
        }

        #[automatically_derived]
        impl #p::ScalarColumn for #ident
        where
            for<'__bound> #ident: ::core::fmt::Debug,
        {
            const SCALAR: #p::ScalarType = #p::ScalarType::Enum(<Self as #p::PgEnum>::ENUM);
        }
    })
}
