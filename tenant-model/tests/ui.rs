//! Compile tests of the derives (trybuild).
//!
//! `tests/ui/pass/*.rs` must compile and run; `tests/ui/fail/<category>/*.rs`
//! must fail with the errors in the `.stderr` next to them, one mistake per
//! file. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p tenant-model --features cli,testing --test ui`
//! and review the diff: every error must point at the offending token.
//!
//! The expected errors are those of one exact compiler, the one pinned in
//! the workspace's `rust-toolchain.toml` (rustc's wording and layout change
//! between releases), and of one feature set, the one `cargo test
//! --workspace` builds (`cli` and `testing`: rustc's lists of candidate
//! impls name every crate linked in, clap's included). Otherwise the fail
//! cases are not compared: the test says so loudly on stderr and still
//! runs the pass cases.

use std::io::Write;
use std::process::Command;

/// The workspace's toolchain file, the one place the version is written.
const TOOLCHAIN_FILE: &str = include_str!("../../rust-toolchain.toml");

/// Whether this build has the features the `.stderr` files were recorded
/// with.
const RECORDED_FEATURES: bool = cfg!(all(feature = "cli", feature = "testing"));

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    let pinned = pinned_version(TOOLCHAIN_FILE).expect("rust-toolchain.toml names a `channel`");
    let why_not = match compiler_version() {
        Some(version) if version == pinned => (!RECORDED_FEATURES).then(|| {
            "they were recorded with the features `cargo test --workspace` builds (cli, \
             testing). Run `cargo test --workspace`, or add `--features cli,testing`"
                .to_owned()
        }),
        other => Some(format!(
            "their .stderr files are the output of rustc {pinned} (rust-toolchain.toml), and \
             this is rustc {}. Run the tests without a toolchain override",
            other.unwrap_or_else(|| "of an unknown version".to_owned())
        )),
    };
    match why_not {
        None => t.compile_fail("tests/ui/fail/*/*.rs"),
        Some(why) => {
            let stars = "*".repeat(72);
            let _ = writeln!(
                std::io::stderr(),
                "\n{stars}\nUI FAIL CASES NOT CHECKED: {why} to check them.\n{stars}\n"
            );
        }
    }
}

/// `channel = "1.95.0"` in a `rust-toolchain.toml`.
fn pinned_version(toolchain: &str) -> Option<&str> {
    toolchain.lines().find_map(|line| {
        let value = line.trim().strip_prefix("channel")?.trim_start();
        Some(value.strip_prefix('=')?.trim().trim_matches('"'))
    })
}

/// The version of the `rustc` trybuild's cargo will run (`1.95.0`), from
/// `rustc -V` (`rustc 1.95.0 (59807616e 2026-04-14)`). Under rustup this
/// resolves the same toolchain as the `cargo` running the tests.
fn compiler_version() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-V").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    text.split_whitespace().nth(1).map(str::to_owned)
}

#[test]
fn the_pinned_version_is_read_from_the_toolchain_file() {
    assert_eq!(
        pinned_version("[toolchain]\nchannel = \"1.95.0\"\n"),
        Some("1.95.0")
    );
    assert_eq!(pinned_version("[toolchain]\n"), None);
    assert!(pinned_version(TOOLCHAIN_FILE).is_some());
}
