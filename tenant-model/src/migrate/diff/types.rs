//! Which column type changes keep every value (widening) and which may
//! not (narrowing, or a conversion): the latter are destructive.

/// `n` of `character varying(n)`; `None` for any other type.
fn varchar_length(sql_type: &str) -> Option<u32> {
    sql_type
        .strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

/// Whether every value of type `from` fits `to` unchanged, with an
/// implicit cast (types as `format_type` prints them).
pub(super) fn is_widening(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    if let (Some(f), Some(t)) = (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        return is_widening(f, t);
    }
    let unlimited = |t: &str| t == "text" || t == "character varying";
    match (varchar_length(from), varchar_length(to)) {
        (Some(f), Some(t)) => return t >= f,
        (Some(_), None) => return unlimited(to),
        _ => {}
    }
    if unlimited(from) && unlimited(to) {
        return true;
    }
    matches!(
        (from, to),
        ("smallint", "integer")
            | ("smallint", "bigint")
            | ("integer", "bigint")
            | ("real", "double precision")
    )
}

#[cfg(test)]
mod tests {
    use super::is_widening;

    #[test]
    fn widening_and_narrowing() {
        assert!(is_widening(
            "character varying(10)",
            "character varying(20)"
        ));
        assert!(is_widening("character varying(10)", "text"));
        assert!(is_widening("text", "character varying"));
        assert!(is_widening("integer", "bigint"));
        assert!(is_widening("integer[]", "bigint[]"));
        assert!(!is_widening(
            "character varying(20)",
            "character varying(10)"
        ));
        assert!(!is_widening("text", "character varying(10)"));
        assert!(!is_widening("bigint", "integer"));
        assert!(!is_widening("text", "user_role"));
        assert!(!is_widening("integer", "text"));
    }
}
