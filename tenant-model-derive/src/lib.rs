//! Derive macros for tenant-model.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_derive(TenantModel, attributes(tenant_model))]
pub fn derive_tenant_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Placeholder.
#[proc_macro_derive(PgEnum, attributes(tenant_model))]
pub fn derive_pg_enum(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
