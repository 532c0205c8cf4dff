//! Derive macros for [tenant-model]: `#[derive(TenantModel)]` turns a struct
//! into a multi-tenant PostgreSQL table description, `#[derive(PgEnum)]` maps
//! a fieldless enum to a PostgreSQL enum type.
//!
//! Use them through the runtime crate (`use tenant_model::prelude::*;`): the
//! generated code refers to `::tenant_model`, and the runtime re-exports both
//! derives with their documentation.
//!
//! The derives only describe; every rule about SQL lives in the runtime. Each
//! one runs in stages:
//!
//! 1. `attr`: parse `#[tenant_model(...)]` into spanned raw values;
//! 2. `ast`: build the internal model (a `Model` with its fields, or a
//!    `PgEnum` with its variants);
//! 3. `check`: cross-field validation;
//! 4. `expand_model` / `expand_enum`: generate the code, wrapped by `dummy`
//!    in `const _: () = { ... };` and reaching the runtime only through
//!    `::tenant_model::__private`.
//!
//! Checks that need types (an unsupported field type, `max_length` on a
//! number, `references` to something that is not a model or whose key does
//! not fit the field, a global model referencing a tenant model, a `default`
//! that does not fit its column) are left to the compiler: the generated code
//! asks for the right trait or evaluates a `const`, spanned at the user's
//! token, and the runtime's traits carry the messages.
//!
//! Errors from every stage are collected (`ctxt`) and reported together,
//! each at the offending token. On error the output is the errors plus a stub
//! of the impls (`fallback`), so the user's other code does not add a cascade
//! of follow-on errors.
//!
//! [tenant-model]: https://docs.rs/tenant-model
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use syn::DeriveInput;

mod ast;
mod attr;
mod case;
mod check;
mod ctxt;
mod dummy;
mod embed;
mod expand_enum;
mod expand_model;
mod expand_new_row;
mod expand_relation;
mod fallback;

/// Maps a struct with named fields to a tenant-scoped (or global) PostgreSQL
/// table.
///
/// ```ignore
/// use tenant_model::prelude::*;
///
/// #[derive(TenantModel, Debug, Clone, PartialEq)]
/// #[tenant_model(table = "users", soft_delete(by = User))]
/// #[tenant_model(unique(email, name = "uq_users_email"), index(created_at desc))]
/// pub struct User {
///     #[tenant_model(primary_key)]
///     pub id: Uuid,
///     #[tenant_model(max_length = 255, index)]
///     pub email: String,
///     pub hashed_password: Option<String>,
///     #[tenant_model(default = true)]
///     pub is_active: bool,
///     #[tenant_model(references = Team, on_delete = set_null)]
///     pub team_id: Option<Uuid>,
/// }
///
/// let active = User::IS_ACTIVE; // Column<User, bool>
/// ```
///
/// # What it generates
///
/// - `impl Model for User`: the static table description
///   (`User::DEF`, a `ModelDef`), row decoding and parameter lists;
/// - typed column constants: one per field, named after the field in
///   `SCREAMING_SNAKE_CASE` (`User::EMAIL: Column<User, String>`), plus one
///   per column the library adds and the struct does not declare
///   (`TENANT_ID`, `CREATED_AT`, `UPDATED_AT`, and with `soft_delete`
///   `IS_DELETED`, `DELETED_AT`, `DELETED_BY_ID`);
/// - one relation constant per relation: `Team::ORGANIZATION:
///   BelongsTo<Team, Organization>` for a `references` field named
///   `organization_id` (or with `relation = "..."`), `Organization::TEAMS:
///   HasMany<Organization, Team>` for `has_many(teams = Team)`,
///   `User::TEAMS: ManyToMany<User, Team, UserTeamLink>` for
///   `many_to_many(teams = Team, through = UserTeamLink)`, and the list of
///   them (`Model::relations()`);
/// - `impl NewRow for User`: `User::with_defaults(required)` builds a new
///   row from the fields that have no Rust default (in declaration order:
///   `()`, the one field's type, or a tuple), filling a single `Uuid` key
///   with `Uuid::now_v7()`, each `default = lit` with its value in Rust
///   (bool, number, text, JSON, enum label) and other `Option` fields with
///   `None`. Fields with `default_sql`, or a string default on a date,
///   array or UUID field, stay required. See `tenant_model::NewRow`;
/// - compile-time checks of the field types and of the foreign keys the
///   relations follow.
///
/// It adds nothing else: no other items, no changes to the struct.
///
/// # Columns the library manages
///
/// Every table gets `created_at` and `updated_at`; tenant models (the
/// default) get `tenant_id`; `soft_delete` adds `is_deleted`, `deleted_at`
/// and `deleted_by_id`. The derive does not add fields to the struct: these
/// columns come back on `Record<User>`. A struct may declare any of them as a
/// field of the right type to read it directly:
///
/// | column          | field type                     |
/// |-----------------|--------------------------------|
/// | `tenant_id`     | `Uuid` or `TenantId`           |
/// | `created_at`    | `DateTime<Utc>`                |
/// | `updated_at`    | `DateTime<Utc>`                |
/// | `is_deleted`    | `bool`                         |
/// | `deleted_at`    | `Option<DateTime<Utc>>`        |
/// | `deleted_by_id` | `Option<Uuid>`                 |
///
/// Such fields are read but never written by inserts, and take no other
/// attribute than `index` / `unique`.
///
/// # Field types
///
/// `Uuid`, `String`, `bool`, `i16`, `i32`, `i64`, `f32`, `f64`,
/// `DateTime<Utc>`, `NaiveDateTime`, `NaiveDate`, `serde_json::Value`,
/// `Json<T>` (typed jsonb), `Vec<T>` (arrays of scalars and enums),
/// `Option<T>` (nullable) and enums with `#[derive(PgEnum)]`. Anything else
/// is a compile error at the field's type.
///
/// # Struct attributes
///
/// Written `#[tenant_model(key, key = value, ...)]`, over one or several
/// attributes; a key may appear once unless marked *repeatable*.
///
/// - `table = "name"`: the table name. Default: the struct name in
///   snake_case, plural (`User` → `users`, `Category` → `categories`,
///   `Address` → `addresses`, `UserTeamLink` → `user_team_links`).
/// - `global`: a table shared by all tenants (no `tenant_id`, no row-level
///   security). Default: tenant-scoped.
/// - `soft_delete`, `soft_delete(by = User)`: rows are marked deleted instead
///   of removed; `by` makes `deleted_by_id` reference that model (may be the
///   struct itself, or `Self`).
/// - `unique(col, ...)` *repeatable*: a unique constraint, per tenant on
///   tenant models (`tenant_id` is put in front, so it is not listed).
///   Options: `name = "uq_..."`, `where = "predicate"` (a
///   partial unique index), `include_deleted = true`. On `soft_delete`
///   models a key holds live rows only (a unique index `WHERE NOT
///   is_deleted`), so a deleted row's values can be used again;
///   `include_deleted = true` keeps deleted rows in the key (an invoice
///   number that must never be reused).
/// - `index(col [asc|desc], ...)` *repeatable*: an index, led by `tenant_id`
///   on tenant models (not listed, unless `tenant_prefix = false` or another
///   method than btree leaves its place to you). Options: `name = "idx_..."`,
///   `where = "predicate"`, `using = "gin"`, `tenant_prefix = false`.
/// - `link(ModelA, ModelB)`: marks a junction table of a many-to-many
///   relationship between two models.
/// - `has_many(name = Model)` *repeatable*: a one-to-many relation to the
///   rows of `Model` that reference this one, as the constant `Self::NAME`
///   (`has_many(teams = Team)` gives `Organization::TEAMS`). `Model` must
///   have a field with `references = <this model>` (checked at compile
///   time, the error at `Model`); when it has several, name the one to
///   follow with `via = column`. This model needs a single-column key.
/// - `many_to_many(name = Model, through = Link)` *repeatable*: a
///   many-to-many relation through the link model `Link`, which must
///   reference both models once each (checked at compile time); loads the
///   related rows with their link rows. Not for a model with itself.
///
/// Soft delete follows `has_many` relations and the link rows of
/// `many_to_many` ones whose foreign key has `on_delete = cascade`: see
/// `Executor::soft_delete`.
///
/// Columns in `unique` and `index` are column names: a field's column or one
/// of the managed columns of this table (`index(created_at desc)`).
///
/// # Field attributes
///
/// - `primary_key`: part of the primary key (several fields make a composite
///   key, in declaration order). Every model needs one; key fields cannot be
///   `Option<_>`. A single `Uuid` key gets its default from the schema
///   (`gen_random_uuid()`). On tenant models the table's primary key is
///   `(tenant_id, <key fields>)`: a key is unique within its tenant.
/// - `column = "name"`: the column name. Default: the field name.
/// - `max_length = n`: `varchar(n)` instead of `text`; `String` or
///   `Option<String>` only; `n` from 1 to 10485760 (PostgreSQL's limit).
/// - `default = lit`: a column default: `true`, `42`, `-1.5`, `"text"` (a
///   string is an SQL literal; also for jsonb, arrays and enum labels).
///   Checked against the field's type at compile time: `true` needs a
///   `bool`, an integer an integer column that can hold it, and a string on
///   an enum column one of the enum's labels.
/// - `default_sql = "expr"`: a column default written in SQL (`"now()"`).
///   Not together with `default`.
/// - `index`, `unique`: a single-column index or unique key, as
///   `index(col)` / `unique(col)` on the struct would make it (so on
///   `soft_delete` models the key holds live rows only; use the struct's
///   `unique(col, include_deleted = true)` to keep deleted rows in it).
/// - `references = Model`: a foreign key to that model's primary key (a
///   type, not a string, or `Self`). Checked at compile time, with the
///   error at `Model`: the target has a single-column key, and the field
///   has that key's type or `Option` of it (`Uuid` or `Option<Uuid>` for a
///   `Uuid` key, also `TenantId`; `String` for a `String` key). On tenant
///   models the foreign key is composite with `tenant_id`, so rows never
///   point into another tenant. A `global` model cannot reference a tenant
///   model (its rows are shared by all tenants); a tenant model may
///   reference a global one. The same rules hold for `soft_delete(by = ...)`
///   (`deleted_by_id` is an `Option<Uuid>`).
/// - `on_delete = cascade | restrict | set_null | set_default | no_action`:
///   with `references`; `set_null` needs an `Option<_>` field, `set_default`
///   a default. Default: `no_action`.
/// - `relation = "name"`: with `references`, names the many-to-one
///   relation the field makes (`Self::NAME`). Default: the field's name
///   without `_id` (`organization_id` gives `ORGANIZATION`); a field whose
///   name does not end in `_id` makes a relation only when named. A name
///   whose constant clashes with another constant of the model is an
///   error.
///
/// ```ignore
/// #[derive(TenantModel)]
/// #[tenant_model(link(User, Team))]
/// pub struct UserTeamLink {
///     #[tenant_model(primary_key, references = User, on_delete = cascade)]
///     pub user_id: Uuid,
///     #[tenant_model(primary_key, references = Team, on_delete = cascade)]
///     pub team_id: Uuid,
///     #[tenant_model(default = "member")]
///     pub role: UserRole,
/// }
/// ```
///
/// # Errors
///
/// Mistakes are compile errors pointing at the offending token, all reported
/// at once: unknown or duplicate keys, a missing primary key, an unknown
/// column in `index`/`unique`, `tenant_id` listed where it is put in front
/// already, `on_delete` without `references`, a managed column on a model
/// that does not have it, an unsupported field type, a field whose constant
/// would shadow `Model::DEF` (a field named `def`: rename it and keep the
/// column with `column = "def"`), and so on. The struct must have named
/// fields and no generic parameters.
///
/// Two models on one table cannot be seen by one derive: `Schema::check`
/// reports them.
#[proc_macro_derive(TenantModel, attributes(tenant_model))]
pub fn derive_tenant_model(input: TokenStream) -> TokenStream {
    let input = TokenStream2::from(input);
    match expand_tenant_model(input.clone()) {
        Ok(output) => output,
        Err(error) => fallback::model(input, error),
    }
    .into()
}

/// Maps a fieldless enum to a PostgreSQL enum type
/// (`CREATE TYPE user_role AS ENUM ('owner', 'admin', ...)`).
///
/// ```ignore
/// use tenant_model::prelude::*;
///
/// #[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
/// #[tenant_model(type_name = "user_role")]
/// pub enum UserRole {
///     Owner,
///     Admin,
///     #[tenant_model(rename = "regular_member")]
///     Member,
///     Guest,
/// }
///
/// assert_eq!(UserRole::Member.label(), "regular_member");
/// ```
///
/// The enum then works as a column type, also as `Option<UserRole>` and
/// `Vec<UserRole>`. It needs `Debug` (required by `postgres_types::ToSql`).
///
/// # Attributes
///
/// - on the enum, `type_name = "name"`: the SQL type name. Default: the enum
///   name in snake_case (`UserRole` → `user_role`).
/// - on a variant, `rename = "label"`: the label. Default: the variant name
///   in snake_case (`PastDue` → `past_due`).
///
/// Labels keep declaration order, which is PostgreSQL's sort order for the
/// type. Variants cannot have fields; the enum cannot be generic or empty;
/// labels must be distinct.
#[proc_macro_derive(PgEnum, attributes(tenant_model))]
pub fn derive_pg_enum(input: TokenStream) -> TokenStream {
    let input = TokenStream2::from(input);
    match expand_pg_enum(input.clone()) {
        Ok(output) => output,
        Err(error) => fallback::pg_enum(input, error),
    }
    .into()
}

/// Compiles a folder of migrations into the binary:
/// `embed_migrations!("migrations")` is a `tenant_model::migrate::Migrations`.
///
/// The path is relative to the crate's `Cargo.toml` (`CARGO_MANIFEST_DIR`).
/// Each `up.sql` and `down.sql` is included with `include_str!` by its
/// absolute path, so editing one rebuilds the crate. A new migration
/// folder is not seen until the crate is rebuilt: add a build script with
/// `println!("cargo:rerun-if-changed=migrations");` (cargo then watches
/// the whole folder), or touch a source file.
///
/// A missing folder, a bad folder name, a folder without `up.sql` and two
/// folders with one version are compile errors at the string literal.
///
/// ```ignore
/// let migrations = tenant_model::embed_migrations!("migrations");
/// tenant_model::migrate::Migrator::new(&migrations).up(&mut client, None).await?;
/// ```
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").ok();
    match embed::expand(input.into(), manifest_dir.as_deref()) {
        Ok(output) => output,
        Err(error) => {
            let error = error.to_compile_error();
            quote::quote!({ #error; ::tenant_model::migrate::Migrations::default() })
        }
    }
    .into()
}

/// `#[derive(TenantModel)]` on tokens: the generated code, or every error.
fn expand_tenant_model(input: TokenStream2) -> syn::Result<TokenStream2> {
    let input: DeriveInput = syn::parse2(input)?;
    let cx = ctxt::Ctxt::new();
    let model = ast::Model::from_input(&cx, &input);
    if let Some(model) = &model {
        check::model(&cx, model);
    }
    cx.check()?;
    match model {
        Some(model) => Ok(expand_model::expand(&model)),
        // `from_input` only returns `None` after recording an error.
        None => Err(syn::Error::new_spanned(
            &input.ident,
            "cannot derive `TenantModel`",
        )),
    }
}

/// `#[derive(PgEnum)]` on tokens: the generated code, or every error.
fn expand_pg_enum(input: TokenStream2) -> syn::Result<TokenStream2> {
    let input: DeriveInput = syn::parse2(input)?;
    let cx = ctxt::Ctxt::new();
    let pg_enum = ast::PgEnum::from_input(&cx, &input);
    if let Some(pg_enum) = &pg_enum {
        check::pg_enum(&cx, pg_enum);
    }
    cx.check()?;
    match pg_enum {
        Some(pg_enum) => Ok(expand_enum::expand(&pg_enum)),
        None => Err(syn::Error::new_spanned(
            &input.ident,
            "cannot derive `PgEnum`",
        )),
    }
}

#[cfg(test)]
mod tests;
