//! Name conventions: `snake_case` for tables, columns and enum labels,
//! `SCREAMING_SNAKE_CASE` for column constants, and English plurals for
//! default table names.

/// `UserTeamLink` -> `user_team_link`, `HTTPRequest` -> `http_request`,
/// `Oauth2Token` -> `oauth2_token`; already snake_case input is unchanged.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                // An acronym ends where a capitalised word starts: `HTTPRequest`.
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `created_at` -> `CREATED_AT`, `fooBar` -> `FOO_BAR`.
pub(crate) fn screaming_snake_case(name: &str) -> String {
    snake_case(name).to_uppercase()
}

/// The plural of a snake_case name: only the last word changes.
/// `user` -> `users`, `category` -> `categories`, `address` -> `addresses`,
/// `user_team_link` -> `user_team_links`, `person` -> `people`.
pub(crate) fn pluralize(snake: &str) -> String {
    let (head, last) = match snake.rfind('_') {
        Some(i) => snake.split_at(i + 1),
        None => ("", snake),
    };
    format!("{head}{}", plural_word(last))
}

/// Irregular plurals (singular, plural).
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("datum", "data"),
    ("medium", "media"),
    ("criterion", "criteria"),
    ("phenomenon", "phenomena"),
];

/// Words whose plural is the word itself.
const UNCOUNTABLE: &[&str] = &[
    "data",
    "metadata",
    "information",
    "equipment",
    "feedback",
    "news",
    "series",
    "species",
    "software",
    "hardware",
    "staff",
    "sheep",
    "fish",
    "deer",
];

fn plural_word(word: &str) -> String {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(singular, _)| *singular == word) {
        return (*plural).to_owned();
    }
    if word.ends_with("ss") || word.ends_with("us") {
        // address -> addresses, status -> statuses
        return format!("{word}es");
    }
    if let Some(stem) = word.strip_suffix("is") {
        // analysis -> analyses, axis -> axes
        return format!("{stem}es");
    }
    if word.ends_with('s') {
        // Already plural: settings, permissions.
        return word.to_owned();
    }
    if word.ends_with('x') || word.ends_with('z') || word.ends_with("ch") || word.ends_with("sh") {
        // box -> boxes, match -> matches, wish -> wishes
        return format!("{word}es");
    }
    if let Some(stem) = word.strip_suffix('y') {
        let after_vowel = stem.ends_with(['a', 'e', 'i', 'o', 'u']);
        if !after_vowel && !stem.is_empty() {
            // category -> categories (but key -> keys)
            return format!("{stem}ies");
        }
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_type_names() {
        let cases = [
            ("User", "user"),
            ("UserTeamLink", "user_team_link"),
            ("HTTPRequest", "http_request"),
            ("UserID", "user_id"),
            ("ABTest", "ab_test"),
            ("Oauth2Token", "oauth2_token"),
            ("already_snake", "already_snake"),
            ("A", "a"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(snake_case(input), expected, "{input}");
        }
    }

    #[test]
    fn screaming_snake_case_of_field_names() {
        assert_eq!(screaming_snake_case("created_at"), "CREATED_AT");
        assert_eq!(screaming_snake_case("id"), "ID");
        assert_eq!(screaming_snake_case("fooBar"), "FOO_BAR");
        assert_eq!(screaming_snake_case("field2"), "FIELD2");
    }

    #[test]
    fn plurals() {
        let cases = [
            ("user", "users"),
            ("category", "categories"),
            ("address", "addresses"),
            ("user_team_link", "user_team_links"),
            ("key", "keys"),
            ("box", "boxes"),
            ("match", "matches"),
            ("status", "statuses"),
            ("analysis", "analyses"),
            ("person", "people"),
            ("sales_person", "sales_people"),
            ("user_settings", "user_settings"),
            ("metadata", "metadata"),
            ("y", "ys"),
        ];
        for (input, expected) in cases {
            assert_eq!(pluralize(input), expected, "{input}");
        }
    }
}
