//! Typed filters: `User::EMAIL.eq("ann@acme.test")`,
//! `User::PREFERENCES.get_text("theme").eq("dark")`, `and`/`or`/`not`.
//!
//! Every value is a bound parameter; a filter never formats a value into
//! SQL text.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::error::Error;
use crate::model::column::Column;
use crate::model::{BoxedParam, Param};
use crate::query::operand::{JsonOperand, Operand, TextOperand};
use crate::sql::sql_fragment::Fragment;
use crate::sql::sql_text::ident;

/// A condition on rows of model `M`.
pub struct Filter<M> {
    node: Node,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Filter<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut params = Params::new(1);
        match self.node.render(&mut params) {
            Ok(sql) => f.write_str(&sql),
            Err(err) => write!(f, "<{err}>"),
        }
    }
}

/// The left side of a comparison.
enum Lhs {
    Column(&'static str),
    /// `column ->> key`: a JSON object member as text.
    JsonText(&'static str, String),
}

enum Node {
    Compare(Lhs, &'static str, BoxedParam<'static>),
    Any(Lhs, BoxedParam<'static>),
    Null(Lhs, bool),
    Like(Lhs, &'static str, String),
    JsonContains(&'static str, BoxedParam<'static>),
    JsonHasKey(&'static str, String),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Sql(RawSql),
    /// `[NOT] EXISTS (<head> AND (<inner>) <tail>)`: a condition across a
    /// relation (built by `crate::relation::filter`).
    Exists {
        negated: bool,
        head: String,
        inner: Box<Node>,
        tail: String,
    },
}

/// A raw fragment, checked once when the filter is made; a problem is
/// reported when the query runs.
struct RawSql {
    sql: Cow<'static, str>,
    fragment: Result<Fragment, String>,
    values: Vec<BoxedParam<'static>>,
}

/// Parameters collected while rendering, numbered from a starting point.
pub(crate) struct Params<'a> {
    next: usize,
    values: Vec<Param<'a>>,
}

impl<'a> Params<'a> {
    pub(crate) fn new(first: usize) -> Self {
        Params {
            next: first,
            values: Vec::new(),
        }
    }

    /// Adds a value and returns its placeholder.
    pub(crate) fn push(&mut self, value: Param<'a>) -> String {
        self.values.push(value);
        self.next += 1;
        format!("${}", self.next - 1)
    }

    pub(crate) fn into_values(self) -> Vec<Param<'a>> {
        self.values
    }
}

impl Lhs {
    fn render<'a>(&'a self, params: &mut Params<'a>) -> String {
        match self {
            Lhs::Column(c) => ident(c).into_owned(),
            Lhs::JsonText(c, key) => format!("({} ->> {})", ident(c), params.push(key)),
        }
    }
}

impl Node {
    fn is_raw(&self) -> bool {
        match self {
            Node::Sql(..) => true,
            Node::Exists { inner, .. } => inner.is_raw(),
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().any(Node::is_raw),
            Node::Not(node) => node.is_raw(),
            _ => false,
        }
    }

    fn render<'a>(&'a self, params: &mut Params<'a>) -> Result<String, Error> {
        Ok(match self {
            Node::Compare(lhs, op, value) => {
                let lhs = lhs.render(params);
                format!("{lhs} {op} {}", params.push(&**value))
            }
            Node::Any(lhs, values) => {
                let lhs = lhs.render(params);
                format!("{lhs} = ANY({})", params.push(&**values))
            }
            Node::Null(lhs, negated) => {
                format!(
                    "{} IS {}NULL",
                    lhs.render(params),
                    if *negated { "NOT " } else { "" }
                )
            }
            Node::Like(lhs, op, pattern) => {
                let lhs = lhs.render(params);
                format!("{lhs} {op} {}", params.push(pattern))
            }
            Node::JsonContains(c, value) => format!("{} @> {}", ident(c), params.push(&**value)),
            Node::JsonHasKey(c, key) => format!("{} ? {}", ident(c), params.push(key)),
            Node::And(nodes) => join(nodes, " AND ", "true", params)?,
            Node::Or(nodes) => join(nodes, " OR ", "false", params)?,
            Node::Not(node) => format!("NOT ({})", node.render(params)?),
            Node::Sql(raw) => raw.render(params)?,
            Node::Exists {
                negated,
                head,
                inner,
                tail,
            } => format!(
                "{}EXISTS ({head} AND ({}){tail})",
                if *negated { "NOT " } else { "" },
                inner.render(params)?
            ),
        })
    }
}

fn join<'a>(
    nodes: &'a [Node],
    op: &str,
    empty: &str,
    params: &mut Params<'a>,
) -> Result<String, Error> {
    match nodes {
        [] => Ok(empty.to_owned()),
        [one] => one.render(params),
        many => {
            let parts = many
                .iter()
                .map(|n| Ok(format!("({})", n.render(params)?)))
                .collect::<Result<Vec<String>, Error>>()?;
            Ok(parts.join(op))
        }
    }
}

impl RawSql {
    fn new(sql: Cow<'static, str>, values: Vec<BoxedParam<'static>>) -> RawSql {
        RawSql {
            fragment: Fragment::parse(&sql, values.len()),
            sql,
            values,
        }
    }

    /// The fragment with `$1, $2, ...` rewritten to the query's numbering.
    fn render<'a>(&'a self, params: &mut Params<'a>) -> Result<String, Error> {
        let fragment = self
            .fragment
            .as_ref()
            .map_err(|e| Error::InvalidQuery(e.clone()))?;
        let placeholders: Vec<String> = self.values.iter().map(|v| params.push(&**v)).collect();
        Ok(fragment.render(&self.sql, &placeholders))
    }
}

impl<M> Filter<M> {
    /// `[NOT] EXISTS (<head> AND (<inner>) <tail>)`, where `inner` is a
    /// filter on the related model: its parameters are numbered with the
    /// query's.
    pub(crate) fn exists<R>(negated: bool, head: String, inner: Filter<R>, tail: String) -> Self {
        Filter::new(Node::Exists {
            negated,
            head,
            inner: Box::new(inner.node),
            tail,
        })
    }

    fn new(node: Node) -> Self {
        Filter {
            node,
            _model: PhantomData,
        }
    }

    /// Both conditions.
    pub fn and(self, other: Filter<M>) -> Filter<M> {
        Filter::all([self, other])
    }

    /// Either condition.
    pub fn or(self, other: Filter<M>) -> Filter<M> {
        Filter::any([self, other])
    }

    /// All of the conditions (`true` when there are none).
    pub fn all(filters: impl IntoIterator<Item = Filter<M>>) -> Filter<M> {
        Filter::new(Node::And(filters.into_iter().map(|f| f.node).collect()))
    }

    /// Any of the conditions (`false` when there are none).
    pub fn any(filters: impl IntoIterator<Item = Filter<M>>) -> Filter<M> {
        Filter::new(Node::Or(filters.into_iter().map(|f| f.node).collect()))
    }

    /// An SQL fragment with its own bound parameters, numbered `$1, $2, ...`
    /// within the fragment (renumbered in the query). The escape hatch for
    /// conditions the typed API lacks.
    ///
    /// The text is a `&'static str`, so a value cannot be formatted into it
    /// by accident: values go in `params`. (For SQL text built at run time,
    /// see [`Filter::sql_dynamic`].)
    ///
    /// The fragment is checked when the filter is made, and a problem is
    /// reported as [`Error::InvalidQuery`] when the query runs (or by
    /// [`crate::Query::to_sql`]):
    /// - every `$n` outside quotes and comments must name one of `params`
    ///   (`$0`, or `$3` with two parameters, is an error: it would bind
    ///   whatever else the query has in that place, such as the tenant),
    ///   and every parameter must be used;
    /// - `$n` inside `'...'` or `E'...'` literals, `"..."` identifiers, `--`
    ///   and `/* */` comments and `$tag$...$tag$` dollar quotes is text, never
    ///   renumbered;
    /// - quotes, comments and parentheses must be closed within the
    ///   fragment, which the query wraps in parentheses and joins with
    ///   `AND`: `"true) OR (true"` is refused.
    ///
    /// ```
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel)]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String }
    /// use tenant_model::{Filter, Query};
    /// let f = Filter::<User>::sql("lower(email) = lower($1)", vec![Box::new("Ann@Acme.test".to_owned())]);
    /// let sql = Query::new().filter(f).to_sql(None).unwrap();
    /// assert!(sql.ends_with("(lower(email) = lower($1))"));
    ///
    /// // A placeholder with no parameter behind it is an error, not a bind to
    /// // some other value of the query.
    /// let stray = Filter::<User>::sql("email = $1", vec![]);
    /// assert!(Query::new().filter(stray).to_sql(None).is_err());
    /// ```
    pub fn sql(sql: &'static str, params: Vec<BoxedParam<'static>>) -> Filter<M> {
        Filter::new(Node::Sql(RawSql::new(Cow::Borrowed(sql), params)))
    }

    /// Like [`Filter::sql`], for SQL text built at run time.
    ///
    /// **Dangerous**: whatever is formatted into `sql` runs as SQL. Build the
    /// text from trusted pieces only (column names from a fixed list, for
    /// instance), never from request data; values still go in `params`.
    /// The same checks as [`Filter::sql`] apply.
    ///
    /// ```
    /// # use tenant_model::prelude::*;
    /// # #[derive(TenantModel)]
    /// # struct User { #[tenant_model(primary_key)] id: Uuid, email: String, full_name: String }
    /// use tenant_model::Filter;
    /// // The column comes from a fixed list, the value is a parameter.
    /// let column = if true { "email" } else { "full_name" };
    /// let f = Filter::<User>::sql_dynamic(
    ///     format!("lower({column}) = lower($1)"),
    ///     vec![Box::new("ann@acme.test".to_owned())],
    /// );
    /// ```
    pub fn sql_dynamic(sql: String, params: Vec<BoxedParam<'static>>) -> Filter<M> {
        Filter::new(Node::Sql(RawSql::new(Cow::Owned(sql), params)))
    }

    pub(crate) fn render<'a>(&'a self, params: &mut Params<'a>) -> Result<String, Error> {
        self.node.render(params)
    }

    /// Whether the filter holds a raw fragment ([`Filter::sql`]): text the
    /// caller wrote, which may change session state.
    pub(crate) fn is_raw(&self) -> bool {
        self.node.is_raw()
    }
}

impl<M> std::ops::Not for Filter<M> {
    type Output = Filter<M>;

    fn not(self) -> Filter<M> {
        Filter::new(Node::Not(Box::new(self.node)))
    }
}

fn compare<M, V: tokio_postgres::types::ToSql + Sync + Send + 'static>(
    lhs: Lhs,
    op: &'static str,
    v: V,
) -> Filter<M> {
    Filter::new(Node::Compare(lhs, op, Box::new(v)))
}

impl<M, T: Operand> Column<M, T> {
    /// `column = value`
    pub fn eq(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), "=", value.into())
    }

    /// `column <> value`
    pub fn ne(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), "<>", value.into())
    }

    /// `column < value`
    pub fn lt(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), "<", value.into())
    }

    /// `column <= value`
    pub fn le(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), "<=", value.into())
    }

    /// `column > value`
    pub fn gt(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), ">", value.into())
    }

    /// `column >= value`
    pub fn ge(self, value: impl Into<T::Value>) -> Filter<M> {
        compare(Lhs::Column(self.name()), ">=", value.into())
    }

    /// `column = ANY($n)`: one of the values (one array parameter).
    pub fn is_in<V: Into<T::Value>>(self, values: impl IntoIterator<Item = V>) -> Filter<M>
    where
        Vec<T::Value>: tokio_postgres::types::ToSql,
    {
        let values: Vec<T::Value> = values.into_iter().map(Into::into).collect();
        Filter::new(Node::Any(Lhs::Column(self.name()), Box::new(values)))
    }

    /// `column IS NULL`
    pub fn is_null(self) -> Filter<M> {
        Filter::new(Node::Null(Lhs::Column(self.name()), false))
    }

    /// `column IS NOT NULL`
    pub fn is_not_null(self) -> Filter<M> {
        Filter::new(Node::Null(Lhs::Column(self.name()), true))
    }
}

impl<M, T: TextOperand> Column<M, T> {
    /// `column LIKE pattern` (case-sensitive; `%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Filter<M> {
        Filter::new(Node::Like(Lhs::Column(self.name()), "LIKE", pattern.into()))
    }

    /// `column ILIKE pattern` (case-insensitive).
    pub fn ilike(self, pattern: impl Into<String>) -> Filter<M> {
        Filter::new(Node::Like(
            Lhs::Column(self.name()),
            "ILIKE",
            pattern.into(),
        ))
    }
}

/// A JSON member as text: `column ->> 'key'` (the key is a bound parameter).
pub struct JsonText<M> {
    column: &'static str,
    key: String,
    _model: PhantomData<fn() -> M>,
}

impl<M, T: JsonOperand> Column<M, T> {
    /// The member `key` of a JSON object column, as text.
    pub fn get_text(self, key: impl Into<String>) -> JsonText<M> {
        JsonText {
            column: self.name(),
            key: key.into(),
            _model: PhantomData,
        }
    }

    /// `column @> value`: the JSON contains `value`.
    pub fn contains(self, value: serde_json::Value) -> Filter<M> {
        Filter::new(Node::JsonContains(self.name(), Box::new(value)))
    }

    /// `column ? key`: the JSON object has the key.
    pub fn has_key(self, key: impl Into<String>) -> Filter<M> {
        Filter::new(Node::JsonHasKey(self.name(), key.into()))
    }
}

impl<M> JsonText<M> {
    fn lhs(self) -> Lhs {
        Lhs::JsonText(self.column, self.key)
    }

    /// `column ->> key = value`
    pub fn eq(self, value: impl Into<String>) -> Filter<M> {
        compare(self.lhs(), "=", value.into())
    }

    /// `column ->> key <> value`
    pub fn ne(self, value: impl Into<String>) -> Filter<M> {
        compare(self.lhs(), "<>", value.into())
    }

    /// `column ->> key LIKE pattern`
    pub fn like(self, pattern: impl Into<String>) -> Filter<M> {
        Filter::new(Node::Like(self.lhs(), "LIKE", pattern.into()))
    }

    /// `column ->> key IS NULL` (the key is missing or null)
    pub fn is_null(self) -> Filter<M> {
        Filter::new(Node::Null(self.lhs(), false))
    }

    /// `column ->> key = ANY($n)`
    pub fn is_in<V: Into<String>>(self, values: impl IntoIterator<Item = V>) -> Filter<M> {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        Filter::new(Node::Any(self.lhs(), Box::new(values)))
    }
}
