//! Pairing the objects of two lists by what they are, then by name.

/// How the objects of `from` become those of `to`.
#[derive(Debug)]
pub(super) struct Matched<'a, T> {
    /// Same object under another name: `(from, to)`.
    pub(super) renamed: Vec<(&'a T, &'a T)>,
    /// In `from` only, or changed (then also in `added` under its name).
    pub(super) dropped: Vec<&'a T>,
    /// In `to` only, or changed.
    pub(super) added: Vec<&'a T>,
}

/// Pairs `from` with `to`: an object with the same name and the same
/// definition is unchanged; one with the same definition under another
/// name is renamed; whatever is left is dropped (from) and added (to), a
/// changed definition under the same name included. `rebuild` marks
/// `from` objects that must be dropped and created again regardless.
pub(super) fn match_objects<'a, T>(
    from: &'a [T],
    to: &'a [T],
    name: impl Fn(&T) -> &str,
    same: impl Fn(&T, &T) -> bool,
    rebuild: impl Fn(&T) -> bool,
) -> Matched<'a, T> {
    let mut free: Vec<bool> = from.iter().map(|f| !rebuild(f)).collect();
    let mut pending: Vec<&'a T> = Vec::new();
    for t in to {
        match from
            .iter()
            .enumerate()
            .position(|(i, f)| free[i] && name(f) == name(t) && same(f, t))
        {
            Some(i) => free[i] = false,
            None => pending.push(t),
        }
    }
    let mut matched = Matched {
        renamed: Vec::new(),
        dropped: Vec::new(),
        added: Vec::new(),
    };
    for t in pending {
        let same_rule = (0..from.len()).find(|&i| {
            free[i] && same(&from[i], t) && !to.iter().any(|o| name(o) == name(&from[i]))
        });
        match same_rule {
            Some(i) => {
                free[i] = false;
                matched.renamed.push((&from[i], t));
            }
            None => matched.added.push(t),
        }
    }
    matched.dropped = from
        .iter()
        .enumerate()
        .filter(|(i, f)| free[*i] || rebuild(f))
        .map(|(_, f)| f)
        .collect();
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(from: &[(&str, &str)], to: &[(&str, &str)]) -> (Vec<String>, Vec<String>, Vec<String>) {
        let m = match_objects(from, to, |o| o.0, |a, b| a.1 == b.1, |_| false);
        (
            m.renamed
                .iter()
                .map(|(f, t)| format!("{}->{}", f.0, t.0))
                .collect(),
            m.dropped.iter().map(|o| o.0.to_owned()).collect(),
            m.added.iter().map(|o| o.0.to_owned()).collect(),
        )
    }

    #[test]
    fn unchanged_renamed_changed_added_dropped() {
        let (renamed, dropped, added) = run(
            &[("a", "x"), ("b", "y"), ("c", "z"), ("d", "w")],
            &[("a", "x"), ("b2", "y"), ("c", "changed"), ("e", "new")],
        );
        assert_eq!(renamed, ["b->b2"]);
        assert_eq!(dropped, ["c", "d"]);
        assert_eq!(added, ["c", "e"]);
    }

    #[test]
    fn a_name_still_wanted_is_not_renamed_away() {
        // `a` keeps its name with a new definition; `b` takes `a`'s old one.
        let (renamed, dropped, added) = run(&[("a", "x")], &[("a", "y"), ("b", "x")]);
        assert!(renamed.is_empty());
        assert_eq!(dropped, ["a"]);
        assert_eq!(added, ["a", "b"]);
    }
}
