//! The README's code is real: every Rust block in it is taken verbatim
//! from `examples/quickstart.rs`, which CI compiles (and `cargo run
//! --example quickstart` runs).

use std::path::Path;

#[test]
fn readme_rust_blocks_are_taken_from_the_quickstart_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let example =
        std::fs::read_to_string(root.join("examples/quickstart.rs")).expect("quickstart.rs");
    let blocks: Vec<&str> = readme
        .split("```rust\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .collect();
    assert!(!blocks.is_empty(), "the README shows code");
    for block in blocks {
        // Blank lines may be dropped in the README; every other line must
        // appear in the example in the same order.
        let mut from = 0;
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            let at = example[from..].find(line).unwrap_or_else(|| {
                panic!("README line not in examples/quickstart.rs (in order): {line:?}")
            });
            from += at + line.len();
        }
    }
}
