//! Workspace package owning the root examples, tests and benches.
