//! Compile-time checks of declared relations, called by generated code in
//! `const` items: a failure is a build error at the attribute.
//!
//! A parent's derive cannot see its child's fields, so each model also
//! describes its references as plain constants (`Model::__REFERENCES`,
//! which read only the targets' `Model::__TABLE`, so models that reference
//! each other build without a const cycle); the parent's `has_many(...)` /
//! `many_to_many(...)` search them at compile time.

/// One `references = Target` field, as constants the compiler can read.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// The referencing column.
    pub column: &'static str,
    /// The referenced model's table.
    pub target_table: &'static str,
}

impl Reference {
    /// The references of a model whose derive failed: they match every
    /// search, so its errors are not followed by others here.
    pub const FALLBACK: Reference = Reference {
        column: "",
        target_table: "\0fallback",
    };
}

/// Whether `references` are those of a model whose derive failed.
const fn is_fallback(references: &[Reference]) -> bool {
    matches!(references, [only] if str_eq(only.target_table, Reference::FALLBACK.target_table))
}

/// The column of `references` (a child's or a link model's) that
/// references `table`: the one such column, or the one named `via`.
/// Panics, at compile time, with a message naming the problem.
pub const fn find_reference(
    references: &'static [Reference],
    table: &'static str,
    via: Option<&'static str>,
) -> &'static str {
    if is_fallback(references) {
        return "";
    }
    let mut found: Option<&'static str> = None;
    let mut i = 0;
    while i < references.len() {
        let r = references[i];
        if str_eq(r.target_table, table) {
            match via {
                Some(via) => {
                    if str_eq(r.column, via) {
                        return r.column;
                    }
                }
                None => {
                    if found.is_some() {
                        panic!("the related model references this model with more than one field: name the one this relation follows with `via = column`");
                    }
                    found = Some(r.column);
                }
            }
        }
        i += 1;
    }
    match (found, via) {
        (Some(column), _) => column,
        (None, Some(_)) => panic!("`via` must name a field of the related model with `references = <this model>`"),
        (None, None) => panic!("the related model has no field with `references = <this model>`: add one (a foreign key), or fix the relation's model"),
    }
}

/// The link model's column that references the target of a many-to-many
/// relation, which must differ from the one referencing the source.
pub const fn find_link_target(
    references: &'static [Reference],
    source_table: &'static str,
    target_table: &'static str,
) -> &'static str {
    if is_fallback(references) {
        return "";
    }
    if str_eq(source_table, target_table) {
        panic!("a many-to-many relation of a model with itself is not supported: its link model references the model twice; declare two `has_many` relations on the link model instead");
    }
    let mut found: Option<&'static str> = None;
    let mut i = 0;
    while i < references.len() {
        if str_eq(references[i].target_table, target_table) {
            if found.is_some() {
                panic!("the link model references the related model with more than one field");
            }
            found = Some(references[i].column);
        }
        i += 1;
    }
    match found {
        Some(column) => column,
        None => panic!(
            "the link model (`through = ...`) has no field with `references = <the related model>`"
        ),
    }
}

/// Compile-time check that a link model references the source model of a
/// many-to-many relation exactly once.
pub const fn find_link_source(
    references: &'static [Reference],
    source_table: &'static str,
) -> &'static str {
    if is_fallback(references) {
        return "";
    }
    let mut found: Option<&'static str> = None;
    let mut i = 0;
    while i < references.len() {
        if str_eq(references[i].target_table, source_table) {
            if found.is_some() {
                panic!("the link model references this model with more than one field");
            }
            found = Some(references[i].column);
        }
        i += 1;
    }
    match found {
        Some(column) => column,
        None => {
            panic!("the link model (`through = ...`) has no field with `references = <this model>`")
        }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFS: &[Reference] = &[
        Reference {
            column: "organization_id",
            target_table: "organizations",
        },
        Reference {
            column: "owner_id",
            target_table: "users",
        },
        Reference {
            column: "creator_id",
            target_table: "users",
        },
    ];

    #[test]
    fn finds_the_one_reference_or_the_named_one() {
        assert_eq!(
            find_reference(REFS, "organizations", None),
            "organization_id"
        );
        assert_eq!(
            find_reference(REFS, "users", Some("creator_id")),
            "creator_id"
        );
    }

    #[test]
    #[should_panic(expected = "more than one field")]
    fn two_references_need_via() {
        find_reference(REFS, "users", None);
    }

    #[test]
    #[should_panic(expected = "no field with `references")]
    fn a_missing_reference_is_an_error() {
        find_reference(REFS, "teams", None);
    }
}
