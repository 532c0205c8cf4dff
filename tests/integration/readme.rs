//! The README's code is real: every Rust block in it is taken verbatim
//! from `examples/hello.rs` (the quickstart's first example) or
//! `examples/quickstart.rs`, which CI compiles and runs (`cargo run
//! --example hello`, `cargo run --example quickstart`).

use std::path::Path;

#[test]
fn readme_rust_blocks_are_taken_from_the_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let examples: Vec<String> = ["examples/hello.rs", "examples/quickstart.rs"]
        .iter()
        .map(|path| std::fs::read_to_string(root.join(path)).expect(path))
        .collect();
    let blocks: Vec<&str> = readme
        .split("```rust\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .collect();
    assert!(!blocks.is_empty(), "the README shows code");
    for block in blocks {
        assert!(
            examples.iter().any(|example| taken_from(block, example)),
            "README block not in examples/hello.rs or examples/quickstart.rs:\n{block}"
        );
    }
}

/// Whether every line of `block` but blank ones (which the README may
/// drop) appears in `example`, in the same order.
fn taken_from(block: &str, example: &str) -> bool {
    let mut from = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        match example[from..].find(line) {
            Some(at) => from += at + line.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn a_block_with_a_line_from_no_example_is_refused() {
    let example = "let a = 1;\nlet b = 2;\n";
    assert!(taken_from("let a = 1;\n\nlet b = 2;", example));
    assert!(!taken_from("let b = 2;\nlet a = 1;", example));
    assert!(!taken_from("let c = 3;", example));
}
