//! Parsing `#[tenant_model(...)]` attributes into spanned raw values.
//!
//! This stage knows the grammar and the checks that concern one key alone
//! (a duplicate key, an unknown key, an empty name, `max_length = 0`). Checks
//! that involve several keys or fields live in `check.rs`. Every error is
//! recorded in the [`Ctxt`] and parsing goes on with the next key, so one
//! build reports every mistake.

use proc_macro2::{Span, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{token, Attribute, Ident, Lit, LitBool, LitInt, LitStr, Path, Token};

use crate::ctxt::Ctxt;

/// The largest `n` PostgreSQL accepts in `varchar(n)` (10 MiB of characters).
pub(crate) const MAX_VARCHAR_LENGTH: u32 = 10_485_760;

/// The attribute both derives read.
pub(crate) const ATTR: &str = "tenant_model";

/// Where an attribute sits; decides which keys are allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Model,
    Field,
    Enum,
    Variant,
}

impl Level {
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Model => &[
                "table",
                "global",
                "soft_delete",
                "unique",
                "index",
                "link",
                "has_many",
                "many_to_many",
            ],
            Level::Field => &[
                "primary_key",
                "column",
                "max_length",
                "default",
                "default_sql",
                "index",
                "unique",
                "references",
                "on_delete",
                "relation",
            ],
            Level::Enum => &["type_name"],
            Level::Variant => &["rename"],
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Level::Model => "struct",
            Level::Field => "field",
            Level::Enum => "enum",
            Level::Variant => "variant",
        }
    }

    /// The noun with its article: "a struct", "an enum".
    fn a_noun(self) -> &'static str {
        match self {
            Level::Model => "a struct",
            Level::Field => "a field",
            Level::Enum => "an enum",
            Level::Variant => "a variant",
        }
    }

    /// The level a misplaced key belongs to, for a better message.
    fn sibling(self) -> Level {
        match self {
            Level::Model => Level::Field,
            Level::Field => Level::Model,
            Level::Enum => Level::Variant,
            Level::Variant => Level::Enum,
        }
    }
}

/// The name and position of a key.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) span: Span,
}

impl Key {
    fn from_path(path: &Path) -> Key {
        let name = match path.get_ident() {
            Some(ident) => ident.unraw().to_string(),
            None => path.to_token_stream().to_string().replace(' ', ""),
        };
        Key {
            name,
            span: path.span(),
        }
    }
}

/// A value together with the span of the key that set it.
#[derive(Clone)]
pub(crate) struct Keyed<T> {
    pub(crate) key: Span,
    pub(crate) value: T,
}

/// A name written in an attribute (a column, a table, a label), with its span.
#[derive(Clone)]
pub(crate) struct Name {
    pub(crate) value: String,
    pub(crate) span: Span,
}

impl Name {
    fn from_lit(lit: &LitStr) -> Name {
        Name {
            value: lit.value(),
            span: lit.span(),
        }
    }
}

// ---------------------------------------------------------------------------
// The raw attribute values
// ---------------------------------------------------------------------------

/// `#[tenant_model(...)]` on a struct.
#[derive(Default)]
pub(crate) struct ModelAttrs {
    pub(crate) table: Option<Keyed<Name>>,
    pub(crate) global: Option<Keyed<()>>,
    pub(crate) soft_delete: Option<Keyed<Option<Path>>>,
    pub(crate) uniques: Vec<Keyed<UniqueAttr>>,
    pub(crate) indexes: Vec<Keyed<IndexAttr>>,
    pub(crate) link: Option<Keyed<Vec<Path>>>,
    pub(crate) has_many: Vec<Keyed<RelationAttr>>,
    pub(crate) many_to_many: Vec<Keyed<RelationAttr>>,
}

/// `has_many(teams = Team, via = organization_id)` or
/// `many_to_many(teams = Team, through = UserTeamLink)`.
#[derive(Default)]
pub(crate) struct RelationAttr {
    /// The relation's name and target model (`teams = Team`).
    pub(crate) target: Option<(Name, Path)>,
    /// `via = column`: the child's column that references this model.
    pub(crate) via: Option<Keyed<Name>>,
    /// `through = Link`: the link model of a many-to-many relation.
    pub(crate) through: Option<Keyed<Path>>,
    /// An item failed to parse (reported already).
    pub(crate) invalid: bool,
}

/// `unique(a, b, name = "...", where = "...", include_deleted = true)`.
#[derive(Default)]
pub(crate) struct UniqueAttr {
    pub(crate) columns: Vec<Name>,
    pub(crate) name: Option<Keyed<Name>>,
    pub(crate) predicate: Option<Keyed<Name>>,
    pub(crate) include_deleted: Option<Keyed<bool>>,
}

/// `index(a desc, b, name = "...", where = "...", using = "...", tenant_prefix = false)`.
#[derive(Default)]
pub(crate) struct IndexAttr {
    pub(crate) columns: Vec<IndexColumnAttr>,
    pub(crate) name: Option<Keyed<Name>>,
    pub(crate) predicate: Option<Keyed<Name>>,
    pub(crate) method: Option<Keyed<Name>>,
    pub(crate) tenant_prefix: Option<Keyed<bool>>,
}

/// One key column of an index.
pub(crate) struct IndexColumnAttr {
    pub(crate) name: Name,
    pub(crate) desc: bool,
}

/// `#[tenant_model(...)]` on a field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) primary_key: Option<Keyed<()>>,
    pub(crate) column: Option<Keyed<Name>>,
    pub(crate) max_length: Option<Keyed<u32>>,
    pub(crate) default: Option<Keyed<DefaultAttr>>,
    pub(crate) default_sql: Option<Keyed<Name>>,
    pub(crate) index: Option<Keyed<()>>,
    pub(crate) unique: Option<Keyed<()>>,
    pub(crate) references: Option<Keyed<Path>>,
    pub(crate) on_delete: Option<Keyed<OnDelete>>,
    pub(crate) relation: Option<Keyed<Name>>,
}

/// `default = <literal>`, with the literal's span.
#[derive(Clone)]
pub(crate) struct DefaultAttr {
    pub(crate) lit: DefaultLit,
    pub(crate) span: Span,
}

/// The value of `default = <literal>`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DefaultLit {
    Bool(bool),
    Int(i64),
    /// As written (without suffix or underscores).
    Float(String),
    Str(String),
}

/// `on_delete = ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnDelete {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl OnDelete {
    const ALL: [(&'static str, OnDelete); 5] = [
        ("cascade", OnDelete::Cascade),
        ("restrict", OnDelete::Restrict),
        ("set_null", OnDelete::SetNull),
        ("set_default", OnDelete::SetDefault),
        ("no_action", OnDelete::NoAction),
    ];

    pub(crate) fn variant(self) -> &'static str {
        match self {
            OnDelete::NoAction => "NoAction",
            OnDelete::Restrict => "Restrict",
            OnDelete::Cascade => "Cascade",
            OnDelete::SetNull => "SetNull",
            OnDelete::SetDefault => "SetDefault",
        }
    }
}

/// `#[tenant_model(...)]` on an enum.
#[derive(Default)]
pub(crate) struct EnumAttrs {
    pub(crate) type_name: Option<Keyed<Name>>,
}

/// `#[tenant_model(...)]` on an enum variant.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub(crate) rename: Option<Keyed<Name>>,
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

pub(crate) fn model_attrs(cx: &Ctxt, attrs: &[Attribute]) -> ModelAttrs {
    let mut out = ModelAttrs::default();
    for_each_key(cx, attrs, Level::Model, |key, meta| {
        match key.name.as_str() {
            "table" => {
                let name = non_empty(string_value(meta, key, "\"table_name\"")?, "table name")?;
                set_once(cx, &mut out.table, key, name);
            }
            "global" => {
                flag(meta, key)?;
                set_once(cx, &mut out.global, key, ());
            }
            "soft_delete" => {
                let by = soft_delete(cx, meta, key)?;
                set_once(cx, &mut out.soft_delete, key, by);
            }
            "unique" => {
                let expected =
                    "expected `unique(column, ...)` on the struct (or a plain `unique` on a field)";
                let value = list(cx, meta, key, expected, unique_item)?;
                out.uniques.push(Keyed {
                    key: key.span,
                    value,
                });
            }
            "index" => {
                let expected =
                    "expected `index(column, ...)` on the struct (or a plain `index` on a field)";
                let value = list(cx, meta, key, expected, index_item)?;
                out.indexes.push(Keyed {
                    key: key.span,
                    value,
                });
            }
            "link" => {
                let expected = "expected `link(ModelA, ModelB)`";
                let models = list(cx, meta, key, expected, link_item)?;
                set_once(cx, &mut out.link, key, models);
            }
            "has_many" => {
                let expected = "expected `has_many(name = Model)`, e.g. `has_many(teams = Team)`";
                let value = list(cx, meta, key, expected, relation_item)?;
                out.has_many.push(Keyed {
                    key: key.span,
                    value,
                });
            }
            "many_to_many" => {
                let expected = "expected `many_to_many(name = Model, through = LinkModel)`, e.g. `many_to_many(teams = Team, through = UserTeamLink)`";
                let value = list(cx, meta, key, expected, relation_item)?;
                out.many_to_many.push(Keyed {
                    key: key.span,
                    value,
                });
            }
            _ => return Err(unknown_key(key, Level::Model)),
        }
        Ok(())
    });
    out
}

pub(crate) fn field_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for_each_key(cx, attrs, Level::Field, |key, meta| {
        match key.name.as_str() {
            "primary_key" => {
                flag(meta, key)?;
                set_once(cx, &mut out.primary_key, key, ());
            }
            "column" => {
                let name = non_empty(string_value(meta, key, "\"column_name\"")?, "column name")?;
                set_once(cx, &mut out.column, key, name);
            }
            "max_length" => {
                let n = max_length(meta, key)?;
                set_once(cx, &mut out.max_length, key, n);
            }
            "default" => {
                let value = default_value(meta, key)?;
                set_once(cx, &mut out.default, key, value);
            }
            "default_sql" => {
                let expr = string_value(meta, key, "\"now()\"")?;
                let expr = non_empty(expr, "`default_sql` expression")?;
                set_once(cx, &mut out.default_sql, key, expr);
            }
            "index" => {
                field_flag(meta, key)?;
                set_once(cx, &mut out.index, key, ());
            }
            "unique" => {
                field_flag(meta, key)?;
                set_once(cx, &mut out.unique, key, ());
            }
            "references" => {
                let path = model_path(meta, key, "references = Organization")?;
                set_once(cx, &mut out.references, key, path);
            }
            "on_delete" => {
                let action = on_delete(meta, key)?;
                set_once(cx, &mut out.on_delete, key, action);
            }
            "relation" => {
                let name = non_empty(string_value(meta, key, "\"owner\"")?, "relation name")?;
                set_once(cx, &mut out.relation, key, name);
            }
            _ => return Err(unknown_key(key, Level::Field)),
        }
        Ok(())
    });
    out
}

pub(crate) fn enum_attrs(cx: &Ctxt, attrs: &[Attribute]) -> EnumAttrs {
    let mut out = EnumAttrs::default();
    for_each_key(cx, attrs, Level::Enum, |key, meta| {
        match key.name.as_str() {
            "type_name" => {
                let name = non_empty(string_value(meta, key, "\"type_name\"")?, "type name")?;
                set_once(cx, &mut out.type_name, key, name);
            }
            _ => return Err(unknown_key(key, Level::Enum)),
        }
        Ok(())
    });
    out
}

pub(crate) fn variant_attrs(cx: &Ctxt, attrs: &[Attribute]) -> VariantAttrs {
    let mut out = VariantAttrs::default();
    for_each_key(cx, attrs, Level::Variant, |key, meta| {
        match key.name.as_str() {
            "rename" => {
                let name = non_empty(string_value(meta, key, "\"label\"")?, "enum label")?;
                set_once(cx, &mut out.rename, key, name);
            }
            _ => return Err(unknown_key(key, Level::Variant)),
        }
        Ok(())
    });
    out
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

/// Calls `f` for each `key ...` in every `#[tenant_model(...)]` of `attrs`.
/// An error from `f` is recorded and the rest of that key's value skipped,
/// so the keys after it are still read.
fn for_each_key(
    cx: &Ctxt,
    attrs: &[Attribute],
    level: Level,
    mut f: impl FnMut(&Key, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
        if !matches!(attr.meta, syn::Meta::List(_)) {
            cx.error_spanned_by(
                attr,
                format!(
                    "expected `#[{ATTR}(...)]` with a list of keys; allowed on {}: {}",
                    level.a_noun(),
                    backticked(level.keys())
                ),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = Key::from_path(&meta.path);
            if let Err(error) = f(&key, &meta) {
                cx.push(error);
                skip_value(meta.input)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.push(error);
        }
    }
}

/// Skips what is left of one key's value, up to the next `,`.
fn skip_value(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn set_once<T>(cx: &Ctxt, slot: &mut Option<Keyed<T>>, key: &Key, value: T) {
    if slot.is_some() {
        cx.error_at(key.span, format!("duplicate `{}`", key.name));
    } else {
        *slot = Some(Keyed {
            key: key.span,
            value,
        });
    }
}

fn unknown_key(key: &Key, level: Level) -> syn::Error {
    let allowed = backticked(level.keys());
    let sibling = level.sibling();
    let message = if sibling.keys().contains(&key.name.as_str()) {
        format!(
            "`{}` goes on {}, not on {}; allowed here: {allowed}",
            key.name,
            sibling.a_noun(),
            level.a_noun()
        )
    } else if let Some(close) = closest(&key.name, level.keys()) {
        format!(
            "unknown {} attribute `{}` (did you mean `{close}`?); expected one of: {allowed}",
            level.noun(),
            key.name
        )
    } else {
        format!(
            "unknown {} attribute `{}`; expected one of: {allowed}",
            level.noun(),
            key.name
        )
    };
    syn::Error::new(key.span, message)
}

/// The candidate closest to a misspelt `name`, if it is close enough.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a transposition counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

pub(crate) fn backticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A key that takes no value: `global`, `primary_key`.
fn flag(meta: &ParseNestedMeta, key: &Key) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        Ok(())
    } else {
        Err(syn::Error::new(
            meta.input.span(),
            format!("`{}` takes no value: write just `{}`", key.name, key.name),
        ))
    }
}

/// `index` / `unique` on a field: a plain flag; the list form belongs on the struct.
fn field_flag(meta: &ParseNestedMeta, key: &Key) -> syn::Result<()> {
    if meta.input.peek(token::Paren) {
        return Err(syn::Error::new(
            key.span,
            format!(
                "on a field, write just `{0}`; `{0}(column, ...)` goes on the struct",
                key.name
            ),
        ));
    }
    flag(meta, key)
}

/// Moves past the `=` of `key = value`, or explains the expected form.
fn equals<'a>(
    meta: &ParseNestedMeta<'a>,
    key: &Key,
    example: &str,
) -> syn::Result<ParseStream<'a>> {
    if meta.input.peek(Token![=]) {
        meta.value()
    } else {
        Err(syn::Error::new(
            key.span,
            format!("expected `{} = {example}`", key.name),
        ))
    }
}

fn string_value(meta: &ParseNestedMeta, key: &Key, example: &str) -> syn::Result<Name> {
    let input = equals(meta, key, example)?;
    string_lit(input, key, example)
}

fn string_lit(input: ParseStream, key: &Key, example: &str) -> syn::Result<Name> {
    match input.parse::<LitStr>() {
        Ok(lit) => Ok(Name::from_lit(&lit)),
        Err(_) => Err(input.error(format!("expected a string: `{} = {example}`", key.name))),
    }
}

fn non_empty(name: Name, what: &str) -> syn::Result<Name> {
    if name.value.trim().is_empty() {
        Err(syn::Error::new(
            name.span,
            format!("the {what} must not be empty"),
        ))
    } else {
        Ok(name)
    }
}

fn max_length(meta: &ParseNestedMeta, key: &Key) -> syn::Result<u32> {
    let input = equals(meta, key, "255")?;
    let lit: LitInt = input
        .parse()
        .map_err(|_| input.error("expected a positive integer: `max_length = 255`"))?;
    let n: u32 = lit.base10_parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "`max_length` must be a positive integer (at most 4294967295)",
        )
    })?;
    if n == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "`max_length` must be at least 1",
        ));
    }
    if n > MAX_VARCHAR_LENGTH {
        return Err(syn::Error::new(
            lit.span(),
            format!("`max_length` is at most {MAX_VARCHAR_LENGTH}, PostgreSQL's limit for `varchar(n)`; for longer text drop `max_length` (the column is then `text`)"),
        ));
    }
    Ok(n)
}

fn default_value(meta: &ParseNestedMeta, key: &Key) -> syn::Result<DefaultAttr> {
    let input = equals(meta, key, "<literal>")?;
    let minus: Option<Token![-]> = input.parse()?;
    let expected = "expected a literal: `default = true`, `default = 0`, `default = 1.5` or `default = \"text\"` (use `default_sql = \"...\"` for an SQL expression)";
    let lit: Lit = input.parse().map_err(|_| input.error(expected))?;
    let span = match &minus {
        // Points at `-1`, not only at `1`.
        Some(minus) => minus.span.join(lit.span()).unwrap_or(lit.span()),
        None => lit.span(),
    };
    let sign = if minus.is_some() { "-" } else { "" };
    let lit = match (&lit, minus) {
        (Lit::Int(int), _) => {
            let value: i64 = format!("{sign}{}", int.base10_digits())
                .parse()
                .map_err(|_| syn::Error::new(int.span(), "integer default out of range for i64"))?;
            DefaultLit::Int(value)
        }
        (Lit::Float(float), _) => DefaultLit::Float(format!("{sign}{}", float.base10_digits())),
        (Lit::Bool(b), None) => DefaultLit::Bool(b.value),
        (Lit::Str(s), None) => DefaultLit::Str(s.value()),
        (_, Some(minus)) => {
            return Err(syn::Error::new(minus.span, "only numbers can be negative"))
        }
        _ => return Err(syn::Error::new(lit.span(), expected)),
    };
    Ok(DefaultAttr { lit, span })
}

fn on_delete(meta: &ParseNestedMeta, key: &Key) -> syn::Result<OnDelete> {
    let input = equals(meta, key, "cascade")?;
    let allowed = backticked(&OnDelete::ALL.map(|(name, _)| name));
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "write the action without quotes: `on_delete = {}`; expected one of: {allowed}",
                lit.value()
            ),
        ));
    }
    let ident = input
        .call(Ident::parse_any)
        .map_err(|_| input.error(format!("expected one of: {allowed}")))?;
    let name = ident.unraw().to_string();
    OnDelete::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, action)| *action)
        .ok_or_else(|| {
            syn::Error::new(
                ident.span(),
                format!("unknown `on_delete` action `{name}`; expected one of: {allowed}"),
            )
        })
}

/// `references = Model`, `by = Model`: a path to a type.
fn model_path(meta: &ParseNestedMeta, key: &Key, example: &str) -> syn::Result<Path> {
    let input = equals(meta, key, example.split(" = ").nth(1).unwrap_or("Model"))?;
    parse_model_path(input, example)
}

fn parse_model_path(input: ParseStream, example: &str) -> syn::Result<Path> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let message = match lit.parse::<Path>() {
            Ok(path) => format!(
                "expected a model type, not a string: write `{}` without quotes",
                path.to_token_stream().to_string().replace(' ', "")
            ),
            Err(_) => format!("expected a model type, not a string: `{example}`"),
        };
        return Err(syn::Error::new(lit.span(), message));
    }
    input
        .parse::<Path>()
        .map_err(|_| input.error(format!("expected a model type: `{example}`")))
}

/// `soft_delete` or `soft_delete(by = Model)`.
fn soft_delete(cx: &Ctxt, meta: &ParseNestedMeta, key: &Key) -> syn::Result<Option<Path>> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Ok(None);
    }
    if !meta.input.peek(token::Paren) {
        return Err(syn::Error::new(
            key.span,
            "expected `soft_delete` or `soft_delete(by = Model)`",
        ));
    }
    let mut by: Option<Keyed<Path>> = None;
    meta.parse_nested_meta(|inner| {
        let inner_key = Key::from_path(&inner.path);
        let result = match inner_key.name.as_str() {
            "by" => model_path(&inner, &inner_key, "by = User").map(|path| {
                set_once(cx, &mut by, &inner_key, path);
            }),
            _ => Err(syn::Error::new(
                inner_key.span,
                format!(
                    "unknown `soft_delete` option `{}`; expected `by = Model`",
                    inner_key.name
                ),
            )),
        };
        if let Err(error) = result {
            cx.push(error);
            skip_value(inner.input)?;
        }
        Ok(())
    })?;
    Ok(by.map(|k| k.value))
}

/// An item of `link(ModelA, ModelB)`: a model type.
fn link_item(_: &Ctxt, input: ParseStream, out: &mut Vec<Path>) -> syn::Result<()> {
    out.push(parse_model_path(input, "link(ModelA, ModelB)")?);
    if !(input.is_empty() || input.peek(Token![,])) {
        return Err(input.error("expected `,` after the model"));
    }
    Ok(())
}

/// An item of `has_many(...)` / `many_to_many(...)`: `name = Model`, or
/// the options `via = column` and `through = LinkModel`.
fn relation_item(cx: &Ctxt, input: ParseStream, out: &mut RelationAttr) -> syn::Result<()> {
    let result = relation_item_value(cx, input, out);
    out.invalid |= result.is_err();
    result
}

fn relation_item_value(cx: &Ctxt, input: ParseStream, out: &mut RelationAttr) -> syn::Result<()> {
    let ident = list_ident(cx, input, "`name = Model`")?;
    let key = Key {
        name: ident.unraw().to_string(),
        span: ident.span(),
    };
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span,
            format!(
                "expected `{} = Model`: a relation is named, e.g. `teams = Team`",
                key.name
            ),
        ));
    }
    input.parse::<Token![=]>()?;
    match key.name.as_str() {
        "via" => {
            let column = list_ident(cx, input, "a column name: `via = organization_id`")?;
            let column = Name {
                value: column.unraw().to_string(),
                span: column.span(),
            };
            set_once(cx, &mut out.via, &key, column);
        }
        "through" => {
            let path = parse_model_path(input, "through = UserTeamLink")?;
            set_once(cx, &mut out.through, &key, path);
        }
        _ => {
            let path = parse_model_path(input, "teams = Team")?;
            if out.target.is_some() {
                return Err(syn::Error::new(
                    key.span,
                    "one relation per `has_many(...)` / `many_to_many(...)`: repeat the attribute for another",
                ));
            }
            let name = Name {
                value: key.name.clone(),
                span: key.span,
            };
            out.target = Some((name, path));
        }
    }
    if !(input.is_empty() || input.peek(Token![,])) {
        return Err(input.error("expected `,`"));
    }
    Ok(())
}

/// A parenthesized, comma-separated list parsed item by item; an item's
/// error is recorded and the list goes on at the next `,`.
fn list<T: Default>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &Key,
    expected: &str,
    mut item: impl FnMut(&Ctxt, ParseStream, &mut T) -> syn::Result<()>,
) -> syn::Result<T> {
    if !meta.input.peek(token::Paren) {
        return Err(syn::Error::new(key.span, expected));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let mut out = T::default();
    while !content.is_empty() {
        if let Err(error) = item(cx, &content, &mut out) {
            cx.push(error);
            skip_value(&content)?;
        }
        if content.is_empty() {
            break;
        }
        if let Err(error) = content.parse::<Token![,]>() {
            cx.push(error);
            skip_value(&content)?;
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
    }
    Ok(out)
}

/// An item of `unique(...)`: a column, `name = "..."`, `where = "..."` or
/// `include_deleted = true` (bare identifiers are column names, so every
/// option has a value).
fn unique_item(cx: &Ctxt, input: ParseStream, out: &mut UniqueAttr) -> syn::Result<()> {
    let ident = list_ident(cx, input, "a column name")?;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let key = Key {
            name: ident.unraw().to_string(),
            span: ident.span(),
        };
        match key.name.as_str() {
            "name" => {
                let name = non_empty(string_lit(input, &key, "\"uq_name\"")?, "constraint name")?;
                set_once(cx, &mut out.name, &key, name);
            }
            "where" => {
                let predicate = non_empty(string_lit(input, &key, "\"predicate\"")?, "predicate")?;
                set_once(cx, &mut out.predicate, &key, predicate);
            }
            "include_deleted" => {
                let value: LitBool = input.parse().map_err(|_| {
                    input.error("expected `include_deleted = true` or `include_deleted = false`")
                })?;
                set_once(cx, &mut out.include_deleted, &key, value.value);
            }
            _ => {
                return Err(syn::Error::new(
                    key.span,
                    format!(
                        "unknown `unique` option `{}`; expected column names, `name = \"...\"`, `where = \"...\"` or `include_deleted = true`",
                        key.name
                    ),
                ))
            }
        }
        return Ok(());
    }
    out.columns.push(Name {
        value: ident.unraw().to_string(),
        span: ident.span(),
    });
    if !(input.is_empty() || input.peek(Token![,])) {
        return Err(input.error("expected `,` after the column name"));
    }
    Ok(())
}

/// An item of `index(...)`: a column with an optional `asc`/`desc`, or an
/// option (`name`, `where`, `using`, `tenant_prefix`).
fn index_item(cx: &Ctxt, input: ParseStream, out: &mut IndexAttr) -> syn::Result<()> {
    let ident = list_ident(cx, input, "a column name")?;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let key = Key {
            name: ident.unraw().to_string(),
            span: ident.span(),
        };
        match key.name.as_str() {
            "name" => {
                let name = non_empty(string_lit(input, &key, "\"idx_name\"")?, "index name")?;
                set_once(cx, &mut out.name, &key, name);
            }
            "where" => {
                let predicate = non_empty(string_lit(input, &key, "\"predicate\"")?, "predicate")?;
                set_once(cx, &mut out.predicate, &key, predicate);
            }
            "using" => {
                let method = non_empty(string_lit(input, &key, "\"gin\"")?, "index method")?;
                set_once(cx, &mut out.method, &key, method);
            }
            "tenant_prefix" => {
                let value: LitBool = input
                    .parse()
                    .map_err(|_| input.error("expected `tenant_prefix = false` or `tenant_prefix = true`"))?;
                set_once(cx, &mut out.tenant_prefix, &key, value.value);
            }
            _ => {
                return Err(syn::Error::new(
                    key.span,
                    format!(
                        "unknown `index` option `{}`; expected column names (each optionally followed by `asc` or `desc`), `name = \"...\"`, `where = \"...\"`, `using = \"...\"` or `tenant_prefix = false`",
                        key.name
                    ),
                ))
            }
        }
        return Ok(());
    }
    let mut direction = None;
    if input.peek(Ident::peek_any) {
        direction = Some(input.call(Ident::parse_any)?);
    }
    let desc = direction.as_ref().is_some_and(|d| d == "desc");
    // The column is kept even when what follows is wrong, so that a typo in
    // the direction does not also report an empty index.
    out.columns.push(IndexColumnAttr {
        name: Name {
            value: ident.unraw().to_string(),
            span: ident.span(),
        },
        desc,
    });
    if let Some(direction) = direction.filter(|d| d != "asc" && d != "desc") {
        return Err(syn::Error::new(
            direction.span(),
            "expected `asc`, `desc` or `,` after the column name",
        ));
    }
    if !(input.is_empty() || input.peek(Token![,])) {
        return Err(input.error("expected `,` after the column"));
    }
    Ok(())
}

fn list_ident(cx: &Ctxt, input: ParseStream, what: &str) -> syn::Result<Ident> {
    if input.peek(Ident::peek_any) {
        input.call(Ident::parse_any)
    } else if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let error = syn::Error::new(
            lit.span(),
            format!("expected {what} without quotes: `{}`", lit.value()),
        );
        // Go on with the name inside the quotes, so the rest of the list
        // is still checked.
        match syn::parse::Parser::parse_str(Ident::parse_any, &lit.value()) {
            Ok(mut ident) => {
                ident.set_span(lit.span());
                cx.push(error);
                Ok(ident)
            }
            Err(_) => Err(error),
        }
    } else {
        Err(input.error(format!("expected {what}")))
    }
}

/// Parses a standalone token stream with one of the item parsers (for tests).
#[cfg(test)]
pub(crate) fn parse_index_list(tokens: proc_macro2::TokenStream) -> syn::Result<IndexAttr> {
    let cx = Ctxt::new();
    let mut out = IndexAttr::default();
    let parser = |input: ParseStream| {
        while !input.is_empty() {
            index_item(&cx, input, &mut out)?;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    syn::parse::Parser::parse2(parser, tokens)?;
    cx.check()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn index_columns_with_directions_and_options() {
        let index = parse_index_list(quote!(created_at desc, name, r#type asc, name = "idx", where = "x > 1", using = "gin", tenant_prefix = false)).unwrap();
        let columns: Vec<_> = index
            .columns
            .iter()
            .map(|c| (c.name.value.as_str(), c.desc))
            .collect();
        assert_eq!(
            columns,
            [("created_at", true), ("name", false), ("type", false)]
        );
        assert_eq!(index.name.unwrap().value.value, "idx");
        assert_eq!(index.predicate.unwrap().value.value, "x > 1");
        assert_eq!(index.method.unwrap().value.value, "gin");
        assert!(!index.tenant_prefix.unwrap().value);
    }

    #[test]
    fn suggestions_for_misspelt_keys() {
        assert_eq!(closest("tabel", Level::Model.keys()), Some("table"));
        assert_eq!(closest("max_len", Level::Field.keys()), Some("max_length"));
        assert_eq!(closest("defualt", Level::Field.keys()), Some("default"));
        assert_eq!(
            closest("primarykey", Level::Field.keys()),
            Some("primary_key")
        );
        assert_eq!(closest("foo", Level::Field.keys()), None);
        assert_eq!(closest("x", Level::Variant.keys()), None);
    }

    #[test]
    fn index_rejects_a_missing_comma() {
        let err = parse_index_list(quote!(a b)).err().unwrap();
        assert!(
            err.to_string().contains("expected `asc`, `desc` or `,`"),
            "{err}"
        );
    }
}
