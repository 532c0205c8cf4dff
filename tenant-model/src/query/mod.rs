//! Query building: the [`Query`] builder, typed filters, operands and
//! change sets. Everything here renders SQL text with bound parameters;
//! nothing runs it.

mod builder;

pub(crate) mod changes;
pub(crate) mod filter;
pub(crate) mod operand;

pub use builder::*;
