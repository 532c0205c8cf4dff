//! Unit tests of the whole pipeline on token input (no compiler involved):
//! naming, parsing, the generated description and the error messages.
//! Where errors point is covered by the UI tests of the runtime crate.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{expand_pg_enum, expand_tenant_model};

/// The generated code without whitespace, for substring checks.
fn model(input: TokenStream) -> String {
    match expand_tenant_model(input) {
        Ok(output) => squash(&output.to_string()),
        Err(error) => panic!("unexpected errors: {:?}", messages(error)),
    }
}

fn pg_enum(input: TokenStream) -> String {
    match expand_pg_enum(input) {
        Ok(output) => squash(&output.to_string()),
        Err(error) => panic!("unexpected errors: {:?}", messages(error)),
    }
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn messages(error: syn::Error) -> Vec<String> {
    error.into_iter().map(|e| e.to_string()).collect()
}

fn model_errors(input: TokenStream) -> Vec<String> {
    match expand_tenant_model(input) {
        Ok(_) => panic!("expected errors"),
        Err(error) => messages(error),
    }
}

fn enum_errors(input: TokenStream) -> Vec<String> {
    match expand_pg_enum(input) {
        Ok(_) => panic!("expected errors"),
        Err(error) => messages(error),
    }
}

/// Asserts there is exactly one error and that it contains `needle`.
#[track_caller]
fn assert_one_error(errors: Vec<String>, needle: &str) {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains(needle),
        "{:?} does not contain {needle:?}",
        errors[0]
    );
}

// ---------------------------------------------------------------------------
// Generated code
// ---------------------------------------------------------------------------

#[test]
fn basic_model() {
    let out = model(quote! {
        #[tenant_model(table = "users", soft_delete(by = User))]
        #[tenant_model(unique(email, name = "uq_tenant_email"), index(created_at desc))]
        pub struct User {
            #[tenant_model(primary_key)]
            pub id: Uuid,
            #[tenant_model(max_length = 255, index)]
            pub email: String,
            #[tenant_model(default = true)]
            pub is_active: bool,
        }
    });
    assert!(out.starts_with("#[doc(hidden)]"), "{out}");
    assert!(out.contains("const_:()="));
    assert!(out.contains("#[automatically_derived]impl::tenant_model::__private::ModelforUser"));
    assert!(out.contains(
        "rust_name:\"User\",table:\"users\",scope:::tenant_model::__private::Scope::Tenant"
    ));
    assert!(out.contains("primary_key:&[\"id\"]"));
    assert!(
        out.contains("name:::core::option::Option::Some(\"uq_tenant_email\"),columns:&[\"email\"]")
    );
    assert!(out.contains("IndexColumn{name:\"created_at\",desc:true}"));
    assert!(out.contains("IndexColumn{name:\"email\",desc:false}"));
    assert!(out.contains("max_length:::core::option::Option::Some(255)"));
    assert!(out.contains("DefaultValue::Bool(true)"));
    assert!(out.contains("SoftDeleteDef{by:::core::option::Option::Some(<Useras::tenant_model::__private::Model>::def)}"));
    assert!(out.contains("sql_type:<Stringas::tenant_model::__private::ColumnField>::SQL_TYPE"));
    // Column constants: fields, then the system columns the derive adds.
    assert!(out.contains("pubconstEMAIL:::tenant_model::__private::Column<User,String>=::tenant_model::__private::Column::new(\"email\");"));
    for name in [
        "TENANT_ID",
        "CREATED_AT",
        "UPDATED_AT",
        "IS_DELETED",
        "DELETED_AT",
        "DELETED_BY_ID",
    ] {
        assert!(out.contains(&format!("pubconst{name}:")), "{name}");
    }
    // Row decoding in declaration order, parameters for every written field.
    assert!(out
        .contains("id:<Uuidas::tenant_model::__private::ColumnField>::decode(__row,__offset+0)?"));
    assert!(out.contains(
        "is_active:<boolas::tenant_model::__private::ColumnField>::decode(__row,__offset+2)?"
    ));
    assert!(out.contains(
        "<Stringas::tenant_model::__private::ColumnField>::array(__rows,|__row|&__row.email)"
    ));
    // max_length is checked on the type.
    assert!(out.contains("::tenant_model::__private::assert_text::<String>();"));
}

#[test]
fn default_table_names_are_snake_case_plurals() {
    for (name, table) in [
        (quote!(User), "users"),
        (quote!(Category), "categories"),
        (quote!(Address), "addresses"),
        (quote!(UserTeamLink), "user_team_links"),
        (quote!(Person), "people"),
    ] {
        let out = model(quote! {
            struct #name {
                #[tenant_model(primary_key)]
                id: Uuid,
            }
        });
        assert!(out.contains(&format!("table:\"{table}\"")), "{name}: {out}");
    }
}

#[test]
fn global_models_have_no_tenant_id_constant() {
    let out = model(quote! {
        #[tenant_model(global)]
        pub struct Country {
            #[tenant_model(primary_key)]
            pub code: String,
        }
    });
    assert!(out.contains("Scope::Global"));
    assert!(!out.contains("TENANT_ID"));
    assert!(out.contains("CREATED_AT"));
    assert!(!out.contains("IS_DELETED"));
}

#[test]
fn declared_system_columns_are_mapped_not_added() {
    let out = model(quote! {
        #[tenant_model(soft_delete)]
        pub struct Note {
            #[tenant_model(primary_key)]
            pub id: Uuid,
            pub tenant_id: TenantId,
            pub deleted_at: Option<DateTime<Utc>>,
        }
    });
    assert!(out.contains(
        "system:::core::option::Option::Some(::tenant_model::__private::SystemColumn::TenantId)"
    ));
    assert!(out.contains(
        "assert_system_column::<TenantId,::tenant_model::__private::system::TenantIdColumn>();"
    ));
    assert!(out.contains("assert_system_column::<Option<DateTime<Utc>>,::tenant_model::__private::system::DeletedAtColumn>();"));
    // The declared field's constant has the field's type; no second one.
    assert_eq!(out.matches("constTENANT_ID:").count(), 1);
    assert!(out.contains("constTENANT_ID:::tenant_model::__private::Column<Note,TenantId>"));
    // System fields are decoded but not written.
    assert!(out.contains(
        "tenant_id:<TenantIdas::tenant_model::__private::ColumnField>::decode(__row,__offset+1)?"
    ));
    assert!(!out.contains("param(&self.tenant_id)"));
    assert!(out.contains("param(&self.id)"));
}

#[test]
fn composite_keys_references_and_links() {
    let out = model(quote! {
        #[tenant_model(link(User, Team))]
        pub struct UserTeamLink {
            #[tenant_model(primary_key, references = User, on_delete = cascade)]
            pub user_id: Uuid,
            #[tenant_model(primary_key, references = crate::Team)]
            pub team_id: Uuid,
            #[tenant_model(references = User, on_delete = set_null)]
            pub invited_by: Option<Uuid>,
        }
    });
    assert!(out.contains("primary_key:&[\"user_id\",\"team_id\"]"));
    assert!(out.contains("ForeignKeyDef{column:\"user_id\",target:<Useras::tenant_model::__private::Model>::def,on_delete:::tenant_model::__private::OnDelete::Cascade,}"));
    assert!(out.contains("target:<crate::Teamas::tenant_model::__private::Model>::def,on_delete:::tenant_model::__private::OnDelete::NoAction"));
    assert!(out.contains("LinkDef{left:<Useras::tenant_model::__private::Model>::def,right:<Teamas::tenant_model::__private::Model>::def}"));
    assert!(out.contains("fnkey_values(&self)->::std::vec::Vec<::tenant_model::__private::Param<'_>>{::std::vec![<Uuidas::tenant_model::__private::ColumnField>::param(&self.user_id),<Uuidas::tenant_model::__private::ColumnField>::param(&self.team_id)]}"));
    // Each reference is checked against the target's key: one column, of
    // the field's type.
    assert!(out.contains(
        "assert_single_key::<<crate::Teamas::tenant_model::__private::Model>::Key,crate::Team>();"
    ));
    // A field that makes a relation (`team_id`: `TEAM`) is checked by its
    // handle, which converts it to the key; others by an assertion.
    assert!(out.contains("<<crate::Teamas::tenant_model::__private::Model>::Keyas::tenant_model::__private::KeyReference<Uuid,crate::Team>>::from_field(&__m.team_id)"));
    assert!(!out.contains("assert_key_type::<Uuid,<crate::Teamas::tenant_model::__private::Model>::Key,crate::Team>();"));
    assert!(out.contains(
        "assert_key_type::<Option<Uuid>,<Useras::tenant_model::__private::Model>::Key,User>();"
    ));
    assert!(out.contains("assert_nullable::<Option<Uuid>>();"));
    // A tenant model may reference anything: no scope checks.
    assert!(!out.contains("check_global_reference"));
}

#[test]
fn references_from_global_models_and_soft_delete_by_are_checked() {
    let out = model(quote! {
        #[tenant_model(global, soft_delete(by = Admin))]
        pub struct Plan {
            #[tenant_model(primary_key)]
            pub id: Uuid,
            #[tenant_model(references = Region)]
            pub region: String,
            #[tenant_model(references = Self)]
            pub parent_id: Option<Uuid>,
        }
    });
    // The target's scope, evaluated at compile time.
    assert!(out.contains("const_:()=::tenant_model::__private::check_global_reference(<Regionas::tenant_model::__private::Model>::DEF.scope);"));
    assert!(out.contains("const_:()=::tenant_model::__private::check_global_deleted_by(<Adminas::tenant_model::__private::Model>::DEF.scope);"));
    // `Self` is this global model: nothing to check, and outside the impl
    // it is spelt with the struct's name.
    assert!(!out.contains("<Selfas::tenant_model::__private::Model>::Key"));
    assert!(out.contains(
        "<<Planas::tenant_model::__private::Model>::Keyas::tenant_model::__private::KeyReference<Option<Uuid>,Plan>>::from_field(&__m.parent_id)"
    ));
    // `deleted_by_id` is an `Option<Uuid>` pointing at `by`'s key.
    assert!(out.contains("assert_key_type::<::core::option::Option<::tenant_model::__private::Uuid>,<Adminas::tenant_model::__private::Model>::Key,Admin>();"));
    assert!(out
        .contains("assert_single_key::<<Adminas::tenant_model::__private::Model>::Key,Admin>();"));
}

#[test]
fn defaults() {
    let out = model(quote! {
        pub struct Settings {
            #[tenant_model(primary_key)]
            pub id: Uuid,
            #[tenant_model(default = -42)]
            pub a: i32,
            #[tenant_model(default = 1_000.5f64)]
            pub b: f64,
            #[tenant_model(default = "{}")]
            pub c: serde_json::Value,
            #[tenant_model(default_sql = "now()")]
            pub d: DateTime<Utc>,
            #[tenant_model(default = false)]
            pub e: bool,
        }
    });
    assert!(out.contains("DefaultValue::Int(-42)"), "{out}");
    assert!(out.contains("DefaultValue::Float(\"1000.5\")"));
    assert!(out.contains("DefaultValue::Str(\"{}\")"));
    assert!(out.contains("DefaultValue::Expr(\"now()\")"));
    assert!(out.contains("DefaultValue::Bool(false)"));
    // A uuid key gets no default from the derive.
    assert!(out.contains("field:\"id\",name:\"id\",sql_type:<Uuidas::tenant_model::__private::ColumnField>::SQL_TYPE,nullable:<Uuidas::tenant_model::__private::ColumnField>::NULLABLE,max_length:::core::option::Option::None,default:::core::option::Option::None"));
}

#[test]
fn renamed_and_raw_fields() {
    let out = model(quote! {
        pub struct Item {
            #[tenant_model(primary_key)]
            pub id: Uuid,
            #[tenant_model(column = "kind")]
            pub r#type: String,
        }
    });
    assert!(out.contains("field:\"type\",name:\"kind\""));
    assert!(out.contains("constTYPE:::tenant_model::__private::Column<Item,String>=::tenant_model::__private::Column::new(\"kind\")"));
    assert!(out.contains("r#type:<Stringas"));
    assert!(out.contains("&self.r#type"));
}

#[test]
fn field_visibility_is_kept_on_constants() {
    let out = model(quote! {
        pub struct Item {
            #[tenant_model(primary_key)]
            pub(crate) id: Uuid,
            secret: String,
        }
    });
    assert!(out.contains("pub(crate)constID:"));
    assert!(out.contains("#[doc=\"The`secret`column.\"]constSECRET:"));
    assert!(out.contains("#[allow(dead_code)]implItem"));
    // Added system columns follow the struct's visibility.
    assert!(out.contains("pubconstCREATED_AT:"));
}

#[test]
fn pg_enum_output() {
    let out = pg_enum(quote! {
        #[tenant_model(type_name = "role")]
        pub enum UserRole {
            Owner,
            #[tenant_model(rename = "ADMIN")]
            Admin,
            PastDue,
        }
    });
    assert!(out.contains(
        "rust_name:\"UserRole\",name:\"role\",labels:&[\"owner\",\"ADMIN\",\"past_due\"]"
    ));
    assert!(out.contains("Self::Owner=>\"owner\","));
    assert!(out.contains("\"past_due\"=>::core::option::Option::Some(Self::PastDue),"));
    assert!(out.contains("impl::tenant_model::__private::postgres_types::ToSqlforUserRole"));
    assert!(
        out.contains("impl<'a>::tenant_model::__private::postgres_types::FromSql<'a>forUserRole")
    );
    assert!(out.contains("impl::tenant_model::__private::ColumnTypeforUserRole"));
    assert!(out.contains("impl::tenant_model::__private::ScalarColumnforUserRole"));
    assert!(out.contains("enum_to_sql_checked(self,__ty,__out)"));

    let out = pg_enum(quote!(
        enum HTTPStatus {
            NotFound,
        }
    ));
    assert!(out.contains("name:\"http_status\",labels:&[\"not_found\"]"));
}

#[test]
fn fallback_keeps_the_errors_and_stubs_the_impls() {
    let input = quote! {
        pub struct User {
            pub id: Uuid,
        }
    };
    let error = expand_tenant_model(input.clone()).unwrap_err();
    let out = squash(&crate::fallback::model(input, error).to_string());
    assert!(out.contains("compile_error!"));
    assert!(out.contains("impl::tenant_model::__private::ModelforUser"));
    assert!(out.contains("pubconstID:::tenant_model::__private::Column<User,Uuid>"));
    assert!(out.contains("constCREATED_AT:"));

    let input = quote!(
        enum Role {
            A(u8),
        }
    );
    let error = expand_pg_enum(input.clone()).unwrap_err();
    let out = squash(&crate::fallback::pg_enum(input, error).to_string());
    assert!(out.contains("compile_error!"));
    assert!(out.contains("impl::tenant_model::__private::PgEnumforRole"));

    // No stub for a generic type: it would only add errors.
    let input = quote!(
        struct Item<T> {
            id: T,
        }
    );
    let error = expand_tenant_model(input.clone()).unwrap_err();
    let out = squash(&crate::fallback::model(input, error).to_string());
    assert!(out.contains("compile_error!"));
    assert!(!out.contains("impl"));
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn wrong_shapes() {
    assert_one_error(
        model_errors(quote!(
            struct User(Uuid);
        )),
        "tuple structs cannot derive",
    );
    assert_one_error(
        model_errors(quote!(
            struct User;
        )),
        "unit structs cannot derive",
    );
    assert_one_error(
        model_errors(quote!(
            enum User {
                A,
            }
        )),
        "use `#[derive(PgEnum)]`",
    );
    assert_one_error(model_errors(quote!(union User { a: u32 })), "not unions");
    assert_one_error(
        model_errors(quote!(
            struct Item<T> {
                #[tenant_model(primary_key)]
                id: T,
            }
        )),
        "cannot be generic",
    );
    assert_one_error(
        model_errors(quote!(
            struct Item<'a> {
                #[tenant_model(primary_key)]
                id: &'a str,
            }
        )),
        "cannot be generic",
    );
    assert_one_error(
        model_errors(quote!(
            struct User {
                id: Uuid,
            }
        )),
        "`User` has no primary key",
    );
}

#[test]
fn unknown_keys_list_the_allowed_ones() {
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(tabel = "users")]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        }),
        "unknown struct attribute `tabel` (did you mean `table`?); expected one of: `table`, `global`, `soft_delete`, `unique`, `index`, `link`",
    );
    assert_one_error(
        model_errors(quote! {
            struct User { #[tenant_model(primary_key, wat)] id: Uuid }
        }),
        "unknown field attribute `wat`; expected one of: `primary_key`, `column`, `max_length`, `default`, `default_sql`, `index`, `unique`, `references`, `on_delete`",
    );
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(max_length = 3)]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        }),
        "`max_length` goes on a field, not on a struct",
    );
    assert_one_error(
        model_errors(quote! {
            struct User { #[tenant_model(primary_key, table = "x")] id: Uuid }
        }),
        "`table` goes on a struct, not on a field",
    );
    assert_one_error(
        enum_errors(quote! { #[tenant_model(typename = "x")] enum E { A } }),
        "unknown enum attribute `typename` (did you mean `type_name`?); expected one of: `type_name`",
    );
    assert_one_error(
        enum_errors(quote! { enum E { #[tenant_model(type_name = "x")] A } }),
        "`type_name` goes on an enum, not on a variant",
    );
}

#[test]
fn an_unknown_key_does_not_hide_the_next_ones() {
    let errors = model_errors(quote! {
        struct User {
            #[tenant_model(nope(a, b = "c"), max_length = 0, huh = 1 + 2, primary_key)]
            id: Uuid,
        }
    });
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("`nope`"));
    assert!(errors[1].contains("`max_length` must be at least 1"));
    assert!(errors[2].contains("`huh`"));
}

#[test]
fn duplicate_keys() {
    let errors = model_errors(quote! {
        #[tenant_model(table = "a", global)]
        #[tenant_model(table = "b", global, soft_delete, soft_delete(by = User))]
        struct User {
            #[tenant_model(primary_key, primary_key, column = "x", column = "y")]
            id: Uuid,
        }
    });
    assert_eq!(
        errors,
        [
            "duplicate `table`",
            "duplicate `global`",
            "duplicate `soft_delete`",
            "duplicate `primary_key`",
            "duplicate `column`"
        ]
    );
}

#[test]
fn bad_values() {
    let cases = [
        (quote!(table = ""), "the table name must not be empty"),
        (
            quote!(table = users),
            "expected a string: `table = \"table_name\"`",
        ),
        (quote!(table), "expected `table = \"table_name\"`"),
        (quote!(global = true), "`global` takes no value"),
        (
            quote!(soft_delete(who = User)),
            "unknown `soft_delete` option `who`; expected `by = Model`",
        ),
        (
            quote!(soft_delete = true),
            "expected `soft_delete` or `soft_delete(by = Model)`",
        ),
        (quote!(index), "expected `index(column, ...)` on the struct"),
        (quote!(index()), "`index` needs at least one column"),
        (
            quote!(unique(id, foo = "x")),
            "unknown `unique` option `foo`",
        ),
        (quote!(index(id, size = 3)), "unknown `index` option `size`"),
        (
            quote!(index(id sideways)),
            "expected `asc`, `desc` or `,` after the column name",
        ),
        (
            quote!(index("id")),
            "expected a column name without quotes: `id`",
        ),
        (
            quote!(index(id, tenant_prefix = "no")),
            "expected `tenant_prefix = false` or `tenant_prefix = true`",
        ),
        (
            quote!(unique(id, id)),
            "column `id` appears twice in this `unique`",
        ),
        (
            quote!(unique(id, include_deleted = 1)),
            "expected `include_deleted = true` or `include_deleted = false`",
        ),
        (
            quote!(unique(id, include_deleted = true)),
            "`include_deleted` only applies to models with `soft_delete`",
        ),
        (
            quote!(link(A, B, C)),
            "`link` joins exactly two models: `link(ModelA, ModelB)` (found 3)",
        ),
        (quote!(link = A), "expected `link(ModelA, ModelB)`"),
    ];
    for (attr, needle) in cases {
        let errors = model_errors(quote! {
            #[tenant_model(#attr)]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        });
        assert_one_error(errors, needle);
    }
}

#[test]
fn bad_field_values() {
    let cases = [
        (quote!(max_length = 0), "`max_length` must be at least 1"),
        (quote!(max_length = -1), "must be a positive integer"),
        (quote!(max_length = 99999999999), "must be a positive integer (at most 4294967295)"),
        (quote!(max_length = "255"), "expected a positive integer"),
        (quote!(column = ""), "the column name must not be empty"),
        (quote!(default = 'x'), "expected a literal"),
        (quote!(default = -true), "only numbers can be negative"),
        (quote!(default = now()), "expected a literal"),
        (quote!(default = 99999999999999999999), "out of range for i64"),
        (quote!(default_sql = ""), "must not be empty"),
        (quote!(default = 1, default_sql = "2"), "`default` and `default_sql` cannot both be set"),
        (quote!(on_delete = cascade), "`on_delete` needs `references = Model`"),
        (quote!(references = User, on_delete = delete), "unknown `on_delete` action `delete`; expected one of: `cascade`, `restrict`, `set_null`, `set_default`, `no_action`"),
        (quote!(references = User, on_delete = "cascade"), "write the action without quotes: `on_delete = cascade`"),
        (quote!(references = User, on_delete = set_default), "`on_delete = set_default` needs a `default`"),
        (quote!(references = "User"), "expected a model type, not a string: write `User` without quotes"),
        (quote!(references = 3), "expected a model type: `references = Organization`"),
        (quote!(index(desc)), "on a field, write just `index`"),
        (quote!(unique = true), "`unique` takes no value"),
    ];
    for (attr, needle) in cases {
        let errors = model_errors(quote! {
            struct User {
                #[tenant_model(primary_key)]
                id: Uuid,
                #[tenant_model(#attr)]
                other: Option<Uuid>,
            }
        });
        assert_one_error(errors, needle);
    }
}

#[test]
fn unknown_columns_in_indexes() {
    let errors = model_errors(quote! {
        #[tenant_model(index(emial), unique(is_deleted), index(login))]
        struct User {
            #[tenant_model(primary_key)]
            id: Uuid,
            email: String,
            #[tenant_model(column = "login_name")]
            login: String,
        }
    });
    assert_eq!(errors.len(), 3, "{errors:#?}");
    // Soft-delete columns exist only with `soft_delete`.
    assert!(errors[0].contains("unknown column `is_deleted` in `unique`"));
    assert_eq!(
        errors[1],
        "unknown column `emial` in `index`; the columns of `users` are: `created_at`, `email`, `id`, `login_name`, `tenant_id`, `updated_at`"
    );
    assert_eq!(
        errors[2],
        "unknown column `login` in `index`: field `login` is stored in column `login_name`, and `index` names columns"
    );

    // System columns of the table are known.
    model(quote! {
        #[tenant_model(soft_delete, index(created_at, deleted_at desc), unique(created_at))]
        struct User { #[tenant_model(primary_key)] id: Uuid }
    });
}

#[test]
fn tenant_id_is_not_listed_in_keys_it_already_leads() {
    let errors = model_errors(quote! {
        #[tenant_model(unique(tenant_id, email), index(created_at, tenant_id))]
        struct User {
            #[tenant_model(primary_key)]
            id: Uuid,
            email: String,
        }
    });
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("`tenant_id` is put in front of every `unique` of a tenant model already: list only the other columns (`unique(email)` covers `(tenant_id, email)`)"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].ends_with("(or add `tenant_prefix = false` to place it yourself)"),
        "{}",
        errors[1]
    );
    // Where tenant-model does not put it in front, the user may.
    model(quote! {
        #[tenant_model(index(email, tenant_id, tenant_prefix = false), index(tenant_id, using = "hash"))]
        struct User { #[tenant_model(primary_key)] id: Uuid, email: String }
    });
    // A field mapping `tenant_id` cannot be a key of its own.
    let errors = model_errors(quote! {
        struct User {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(unique, index)]
            tenant_id: TenantId,
        }
    });
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0]
        .starts_with("`unique` on `tenant_id` would make a key of `(tenant_id, tenant_id)`"));
    assert!(errors[1]
        .starts_with("`index` on `tenant_id` would make a key of `(tenant_id, tenant_id)`"));
    // On a global model `tenant_id` is no column at all.
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(global, unique(tenant_id))]
            struct Plan { #[tenant_model(primary_key)] id: Uuid }
        }),
        "unknown column `tenant_id` in `unique`",
    );
}

#[test]
fn max_length_stops_at_the_varchar_limit() {
    assert_one_error(
        model_errors(quote! {
            struct User {
                #[tenant_model(primary_key)]
                id: Uuid,
                #[tenant_model(max_length = 10_485_761)]
                bio: String,
            }
        }),
        "`max_length` is at most 10485760, PostgreSQL's limit for `varchar(n)`",
    );
    let out = model(quote! {
        struct User {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(max_length = 10_485_760)]
            bio: String,
        }
    });
    assert!(out.contains("max_length:::core::option::Option::Some(10485760)"));
}

#[test]
fn a_field_constant_cannot_shadow_model_items() {
    assert_one_error(
        model_errors(quote! {
            struct Word {
                #[tenant_model(primary_key)]
                id: Uuid,
                def: String,
            }
        }),
        "field `def` would give the constant `Word::DEF`, which clashes with `Model::DEF` (the model's table description); rename the field and keep the column name with `#[tenant_model(column = \"def\")]`",
    );
    // The hint works: a renamed field keeps the column.
    let out = model(quote! {
        struct Word {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(column = "def")]
            definition: String,
        }
    });
    assert!(out.contains("constDEFINITION:::tenant_model::__private::Column<Word,String>=::tenant_model::__private::Column::new(\"def\")"));
}

#[test]
fn system_column_rules() {
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(global)]
            struct Country { #[tenant_model(primary_key)] code: String, tenant_id: Uuid }
        }),
        "`tenant_id` is not a column of a `global` model",
    );
    for column in ["is_deleted", "deleted_at", "deleted_by_id"] {
        let ident = quote::format_ident!("{column}");
        assert_one_error(
            model_errors(quote! {
                struct Note { #[tenant_model(primary_key)] id: Uuid, #ident: bool }
            }),
            &format!("`{column}` is a soft-delete column: add `#[tenant_model(soft_delete)]`"),
        );
    }
    let errors = model_errors(quote! {
        struct Note {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(primary_key, max_length = 3, default = 1, references = User)]
            created_at: DateTime<Utc>,
        }
    });
    assert_eq!(
        errors,
        [
            "`primary_key` cannot be set on `created_at`: tenant-model manages this column",
            "`max_length` cannot be set on `created_at`: tenant-model manages this column",
            "`default` cannot be set on `created_at`: tenant-model manages this column",
            "`references` cannot be set on `created_at`: tenant-model manages this column",
        ]
    );
    // A renamed field can map a system column...
    let out = model(quote! {
        struct Note {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(column = "created_at", index)]
            created: DateTime<Utc>,
        }
    });
    assert!(out.contains("constCREATED:"));
    assert!(!out.contains("constCREATED_AT:"));
    // ...but a field named like one may not map another column.
    assert_one_error(
        model_errors(quote! {
            struct Note {
                #[tenant_model(primary_key)]
                id: Uuid,
                #[tenant_model(column = "created")]
                created_at: DateTime<Utc>,
            }
        }),
        "field `created_at` would clash with the generated `CREATED_AT` constant",
    );
}

#[test]
fn columns_and_constants_must_be_distinct() {
    assert_one_error(
        model_errors(quote! {
            struct User {
                #[tenant_model(primary_key)]
                id: Uuid,
                #[tenant_model(column = "id")]
                other: Uuid,
            }
        }),
        "column `id` is already mapped by field `id`",
    );
    assert_one_error(
        model_errors(quote! {
            #[allow(non_snake_case)]
            struct User {
                #[tenant_model(primary_key)]
                id: Uuid,
                fooBar: i32,
                #[tenant_model(column = "foo_bar2")]
                foo_bar: i32,
            }
        }),
        "fields `fooBar` and `foo_bar` both give the constant `FOO_BAR`",
    );
}

#[test]
fn identifier_length() {
    let long = "x".repeat(64);
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(table = #long)]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        }),
        "longer than 63 bytes",
    );
}

#[test]
fn tenant_prefix_needs_a_tenant_model() {
    assert_one_error(
        model_errors(quote! {
            #[tenant_model(global, index(code, tenant_prefix = false))]
            struct Country { #[tenant_model(primary_key)] code: String }
        }),
        "`tenant_prefix` only applies to tenant models",
    );
}

#[test]
fn all_errors_at_once() {
    let errors = model_errors(quote! {
        #[tenant_model(tabel = "users", index(emial))]
        #[tenant_model(global, global)]
        struct User {
            id: Uuid,
            #[tenant_model(max_length = 0, defualt = "x")]
            email: String,
            #[tenant_model(on_delete = cascade)]
            team_id: Uuid,
            tenant_id: Uuid,
        }
    });
    assert_eq!(errors.len(), 8, "{errors:#?}");
}

#[test]
fn malformed_attributes() {
    assert_one_error(
        model_errors(quote! {
            #[tenant_model]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        }),
        "expected `#[tenant_model(...)]` with a list of keys",
    );
    assert_one_error(
        model_errors(quote! {
            #[tenant_model("users")]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        }),
        "unexpected literal",
    );
    // Other attributes are not ours to judge.
    model(quote! {
        #[serde(rename_all = "camelCase")]
        struct User { #[tenant_model(primary_key)] #[serde(default)] id: Uuid }
    });
}

#[test]
fn pg_enum_errors() {
    assert_one_error(
        enum_errors(quote!(
            struct S {
                a: u8,
            }
        )),
        "`PgEnum` is derived on enums",
    );
    assert_one_error(enum_errors(quote!(union U { a: u8 })), "not unions");
    assert_one_error(
        enum_errors(quote!(
            enum E {}
        )),
        "needs at least one variant",
    );
    assert_one_error(
        enum_errors(quote!(
            enum E<T> {
                A,
                B(T),
            }
        ))
        .into_iter()
        .take(1)
        .collect(),
        "cannot be generic",
    );
    let errors = enum_errors(quote!(
        enum E {
            A(u8),
            B { x: u8 },
            C,
        }
    ));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("`A` has fields"));
    assert!(errors[1].contains("`B` has fields"));
    assert_one_error(
        enum_errors(quote!(
            enum E {
                A,
                #[tenant_model(rename = "a")]
                B,
            }
        )),
        "duplicate enum label `a` (also used by `A`)",
    );
    assert_one_error(
        enum_errors(quote!(
            enum E {
                #[tenant_model(rename = "")]
                A,
            }
        )),
        "the enum label must not be empty",
    );
    assert_one_error(
        enum_errors(quote!(
            #[tenant_model(type_name = "")]
            enum E {
                A,
            }
        )),
        "the type name must not be empty",
    );
}

#[test]
fn malformed_lists_give_one_error_each() {
    let cases = [
        (
            quote!(link(A, 3, B)),
            "expected a model type: `link(ModelA, ModelB)`",
        ),
        (quote!(unique(id b c)), "expected `,` after the column name"),
        (
            quote!(soft_delete(by = 3)),
            "expected a model type: `by = User`",
        ),
        (quote!(soft_delete(by)), "expected `by = User`"),
        (
            quote!(index(id, name = 3, where = "x")),
            "expected a string: `name = \"idx_name\"`",
        ),
        (
            quote!(index(id, where = "x", where = "y")),
            "duplicate `where`",
        ),
        (
            quote!(unique(id, name = "a", name = "b")),
            "duplicate `name`",
        ),
    ];
    for (attr, needle) in cases {
        let errors = model_errors(quote! {
            #[tenant_model(#attr)]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        });
        assert_one_error(errors, needle);
    }
}

#[test]
fn relation_grammar() {
    let cases = [
        (
            quote!(has_many(Team)),
            "expected `Team = Model`: a relation is named",
        ),
        (quote!(has_many), "expected `has_many(name = Model)`"),
        (
            quote!(has_many(teams = "Team")),
            "expected a model type, not a string",
        ),
        (
            quote!(has_many(via = org_id)),
            "`has_many` needs a name and a model",
        ),
        (
            quote!(has_many(teams = Team, through = Link)),
            "`through` belongs to `many_to_many",
        ),
        (
            quote!(many_to_many(teams = Team)),
            "`many_to_many` needs its link model",
        ),
        (
            quote!(many_to_many(teams = Team, through = L, via = x)),
            "`via` belongs to `has_many`",
        ),
        (
            quote!(has_many(teams = Team, members = User)),
            "one relation per `has_many(...)`",
        ),
        (quote!(has_many(def = Team)), "clashes with `Model::DEF`"),
        (
            quote!(has_many(id = Team)),
            "clashes with the constant of field `id`",
        ),
        (
            quote!(has_many(created_at = Team)),
            "clashes with the constant of the `created_at` column",
        ),
        (
            quote!(
                has_many(teams = Team),
                many_to_many(teams = Team, through = L)
            ),
            "clashes with the relation `teams`",
        ),
    ];
    for (attr, needle) in cases {
        let errors = model_errors(quote! {
            #[tenant_model(#attr)]
            struct User { #[tenant_model(primary_key)] id: Uuid }
        });
        assert_one_error(errors, needle);
    }
    let errors = model_errors(quote! {
        #[tenant_model(has_many(teams = Team))]
        struct Membership {
            #[tenant_model(primary_key)] a: Uuid,
            #[tenant_model(primary_key)] b: Uuid,
        }
    });
    assert_one_error(errors, "needs a model with a single-column primary key");
}

#[test]
fn relations_generate_handles_named_after_fields_or_chosen() {
    let out = model(quote! {
        #[tenant_model(has_many(owned_teams = Team, via = owner_id))]
        struct User {
            #[tenant_model(primary_key)]
            id: Uuid,
            #[tenant_model(references = Team)]
            team_id: Uuid,
            #[tenant_model(references = User, relation = "manager")]
            boss: Option<Uuid>,
            #[tenant_model(references = User)]
            mentor: Option<Uuid>,
        }
    });
    assert!(
        out.contains("constTEAM:::tenant_model::__private::BelongsTo<User,Team>"),
        "{out}"
    );
    assert!(
        out.contains("constMANAGER:::tenant_model::__private::BelongsTo<User,User>"),
        "{out}"
    );
    assert!(!out.contains("BelongsTo<User,User>=<::tenant_model::__private::BelongsTo<User,User>>::new(::tenant_model::__private::RelationDef{name:\"mentor\""), "no `_id`, no name: no relation: {out}");
    assert!(
        out.contains("constOWNED_TEAMS:::tenant_model::__private::HasMany<User,Team>"),
        "{out}"
    );
    assert!(out.contains("find_reference(<Teamas::tenant_model::__private::Model>::__REFERENCES,\"users\",::core::option::Option::Some(\"owner_id\"))"), "{out}");
}
