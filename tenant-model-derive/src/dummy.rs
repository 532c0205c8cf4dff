//! The wrapper around all generated code (serde's `dummy.rs`): an unnamed
//! `const` keeps helper items out of the user's namespace, and the lint
//! allowances keep `#![deny(warnings)]` crates building.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;

/// The runtime path generated code reaches everything through.
pub(crate) fn private() -> TokenStream {
    quote!(::tenant_model::__private)
}

pub(crate) fn wrap_in_const(code: TokenStream) -> TokenStream {
    quote! {
        #[doc(hidden)]
        #[allow(
            non_upper_case_globals,
            unused_attributes,
            unused_qualifications,
            clippy::absolute_paths,
        )]
        const _: () = {
            #code
        };
    }
}

/// `tokens` with every span set to `span`, so that errors about the code
/// (and a failed const evaluation) point at the user's token.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                TokenTree::Group(new)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
