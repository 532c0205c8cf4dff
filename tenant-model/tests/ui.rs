//! Compile tests of the derives (trybuild).
//!
//! `tests/ui/pass/*.rs` must compile and run; `tests/ui/fail/<category>/*.rs`
//! must fail with the errors in the `.stderr` next to them, one mistake per
//! file. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p tenant-model --test ui` and review the
//! diff: every error must point at the offending token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*/*.rs");
}
