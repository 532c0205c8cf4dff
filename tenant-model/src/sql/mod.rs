//! SQL text: quoting, raw fragments with checked placeholders, and the
//! static statements of each model (built once per process).

pub(crate) mod model_sql;
pub(crate) mod sql_fragment;
pub mod sql_text;
pub(crate) mod upsert_sql;
