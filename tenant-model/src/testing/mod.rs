//! The database test harness (placeholder).
