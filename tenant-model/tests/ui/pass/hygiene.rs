//! The derives' output compiles under `#![deny(warnings)]` and
//! `#![deny(missing_docs)]`, with common names shadowed by local items:
//! generated code must reach everything through absolute paths.
#![deny(warnings)]
#![deny(missing_docs)]
#![no_implicit_prelude]

/// Shadows `core::result::Result`.
pub struct Result;
/// Shadows `Ok`.
pub struct Ok;
/// Shadows `Err`.
pub struct Err;
/// Shadows `Option`.
pub struct Option;
/// Shadows `Some`.
pub struct Some;
/// Shadows `None`.
pub struct None;
/// Shadows `Vec`.
pub struct Vec;
/// Shadows `Box`.
pub struct Box;
/// Shadows `Uuid`.
pub struct Uuid;
/// Shadows `String`.
pub struct String;
/// Shadows `Model`.
pub struct Model;
/// Shadows `Column`.
pub struct Column;
/// Shadows `Row`.
pub struct Row;
/// Shadows `Error`.
pub struct Error;
/// Shadows `PgEnum`.
pub struct PgEnum;
/// Shadows `ToSql`.
pub struct ToSql;
/// Shadows `FromSql`.
pub struct FromSql;
/// Shadows `OnceLock`.
pub struct OnceLock;
/// Shadows `SQL` (the name of the generated static).
pub struct SQL;
/// Shadows `Send`.
pub trait Send {}
/// Shadows `Sync`.
pub trait Sync {}
/// Shadows `Iterator`.
pub trait Iterator {}
/// Shadows `bool`.
#[allow(non_camel_case_types)]
pub struct bool;
/// Shadows `str`.
#[allow(non_camel_case_types)]
pub struct str;
/// Shadows `u8`.
#[allow(non_camel_case_types)]
pub struct u8;
/// Shadows `usize`.
#[allow(non_camel_case_types)]
pub struct usize;

/// A model whose field types are written with absolute paths.
#[derive(::tenant_model::TenantModel)]
#[tenant_model(soft_delete(by = Account), index(created_at desc), unique(email))]
#[tenant_model(has_many(children = Self), many_to_many(regions = Region, through = AccountRegion))]
pub struct Account {
    /// Key.
    #[tenant_model(primary_key)]
    pub id: ::uuid::Uuid,
    /// Email.
    #[tenant_model(max_length = 100)]
    pub email: ::std::string::String,
    /// Optional.
    pub nickname: ::core::option::Option<::std::string::String>,
    /// An enum.
    #[tenant_model(default = "on")]
    pub state: State,
    /// Several enums.
    pub history: ::std::vec::Vec<State>,
    /// A reference.
    #[tenant_model(references = Account, on_delete = set_null)]
    pub parent_id: ::core::option::Option<::uuid::Uuid>,
    /// A primitive through its absolute path.
    pub active: ::core::primitive::bool,
    /// A private field (its constant is private and unused).
    secret: ::core::primitive::i64,
    /// A system column declared by the struct.
    pub created_at: ::chrono::DateTime<::chrono::Utc>,
}

/// A global model.
#[derive(::tenant_model::TenantModel)]
#[tenant_model(global)]
pub struct Region {
    /// Key.
    #[tenant_model(primary_key, max_length = 8)]
    pub code: ::std::string::String,
}

/// A link model.
#[derive(::tenant_model::TenantModel)]
#[tenant_model(link(Account, Region))]
pub struct AccountRegion {
    /// First.
    #[tenant_model(primary_key, references = Account)]
    pub account_id: ::uuid::Uuid,
    /// Second.
    #[tenant_model(primary_key, column = "region", references = Region)]
    pub region_code: ::std::string::String,
}

/// A private model: its constants are unused and must not warn.
#[derive(::tenant_model::TenantModel)]
struct Hidden {
    #[tenant_model(primary_key)]
    id: ::uuid::Uuid,
}

/// An enum.
#[derive(
    ::tenant_model::PgEnum, ::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy,
)]
pub enum State {
    /// On.
    On,
    /// Off.
    #[tenant_model(rename = "OFF")]
    Off,
}

fn main() {
    let account = Account {
        id: ::uuid::Uuid::nil(),
        email: ::std::string::String::new(),
        nickname: ::core::option::Option::None,
        state: State::On,
        history: ::std::vec::Vec::new(),
        parent_id: ::core::option::Option::None,
        active: true,
        secret: 0,
        created_at: ::chrono::Utc::now(),
    };
    let _ = account.secret;
    let _ = <Account as ::tenant_model::Model>::insert_values(&account);
    let _ = <Region as ::tenant_model::Model>::DEF;
    let _ = <AccountRegion as ::tenant_model::Model>::DEF;
    let _ = <Hidden as ::tenant_model::Model>::DEF;
    let _ = Account::EMAIL;
    let _ = Account::TENANT_ID;
    let _ = Account::PARENT;
    let _ = Account::CHILDREN;
    let _ = Account::REGIONS;
    let _ = AccountRegion::ACCOUNT;
    let _ = State::Off;
    let _ = <State as ::tenant_model::PgEnum>::label(&State::On);
}
