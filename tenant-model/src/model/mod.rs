//! The model description: what a derived model says about its table
//! ([`ModelDef`], columns, keys, enums), the typed column handles, the
//! records that come back, and the built-in `tenants` root.

mod def;

pub(crate) mod column;
pub(crate) mod column_type;
pub(crate) mod key;
pub(crate) mod new_row;
pub(crate) mod pg_enum;
pub(crate) mod record;
pub(crate) mod tenant;
pub(crate) mod tenant_id;

pub use def::*;
