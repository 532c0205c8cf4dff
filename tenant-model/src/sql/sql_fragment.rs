//! Raw SQL fragments (`Filter::sql`): finding their `$n` placeholders.
//!
//! A small lexer that knows just enough of PostgreSQL's syntax to tell a
//! placeholder from text that merely looks like one: `'...'` literals
//! (`''` escapes; `E'...'` also backslash escapes), `"..."` identifiers,
//! `--` and (nested) `/* */` comments, `$tag$...$tag$` dollar quotes, and
//! identifiers that contain `$` (`a$1` is a name, not a placeholder).
//! Outside them, every `$n` is a placeholder and must name one of the
//! fragment's own parameters.
//!
//! It also refuses what would let a fragment reach past its parentheses
//! into the rest of the query: an unterminated quote or comment, or
//! unbalanced parentheses (`true) OR (true` would turn the query's
//! `tenant_id = $1 AND (...)` into an `OR`).
//!
//! The same lexer splits a migration script into its statements
//! ([`split_statements`]): at each `;` outside quotes, dollar quotes and
//! comments, with `$n` read as text.

use std::ops::Range;

/// One piece of a fragment: text copied as is, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Bytes of the fragment, copied unchanged.
    Text(Range<usize>),
    /// The fragment's parameter with this index (0-based: `$1` is 0).
    Param(usize),
}

/// A fragment split at its placeholders, checked against its parameter
/// count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fragment {
    pieces: Vec<Piece>,
    /// The fragment ends inside a `--` comment: a newline must follow it.
    open_line_comment: bool,
}

impl Fragment {
    /// Splits `sql`, whose placeholders are `$1..=$params`. An error names
    /// the first problem: a placeholder out of range, a parameter never
    /// used, an unterminated quote or comment, unbalanced parentheses.
    pub(crate) fn parse(sql: &str, params: usize) -> Result<Fragment, String> {
        let mut lexer = Lexer::new(sql, Some(params));
        let open_line_comment = lexer.run()?;
        if let Some(unused) = lexer.used.iter().position(|used| !used) {
            return Err(format!(
                "parameter ${} of a raw SQL filter is never used (a `$n` inside quotes or a comment is not a placeholder)",
                unused + 1
            ));
        }
        Ok(Fragment {
            pieces: lexer.pieces,
            open_line_comment,
        })
    }

    /// The fragment with placeholder `$i` replaced by `placeholders[i - 1]`.
    pub(crate) fn render(&self, sql: &str, placeholders: &[String]) -> String {
        let mut out = String::with_capacity(sql.len() + 8);
        for piece in &self.pieces {
            match piece {
                Piece::Text(range) => out.push_str(&sql[range.clone()]),
                Piece::Param(i) => out.push_str(&placeholders[*i]),
            }
        }
        if self.open_line_comment {
            out.push('\n');
        }
        out
    }
}

/// The statements of a script, split at each `;` that is outside quotes,
/// dollar quotes and comments, trimmed; pieces that hold only whitespace
/// and comments are left out. An error names an unterminated quote or
/// comment.
///
/// A SQL-standard function body (`BEGIN ATOMIC ... END`) holds `;`s of its
/// own and is split too: such a function belongs in a migration that runs
/// in a transaction (sent whole), not in a `no-transaction` one.
pub(crate) fn split_statements(sql: &str) -> Result<Vec<&str>, String> {
    let mut lexer = Lexer::new(sql, None);
    lexer.run()?;
    if lexer.code_since_end {
        lexer.statements.push(lexer.statement_start..sql.len());
    }
    Ok(lexer
        .statements
        .into_iter()
        .map(|range| sql[range].trim())
        .collect())
}

struct Lexer<'s> {
    sql: &'s [u8],
    at: usize,
    text_start: usize,
    pieces: Vec<Piece>,
    /// `None` for a script: `$n` is text, parentheses are not checked and
    /// statements end at `;`.
    params: Option<usize>,
    used: Vec<bool>,
    depth: usize,
    /// What the input is, for error messages.
    what: &'static str,
    /// A script's statements that hold code, up to their `;`.
    statements: Vec<Range<usize>>,
    /// Where the script's current statement starts.
    statement_start: usize,
    /// Whether code (not just whitespace and comments) followed the last `;`.
    code_since_end: bool,
}

/// PostgreSQL's `ident_start`: a letter, `_` or any non-ASCII byte.
fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// PostgreSQL's `ident_cont`, without `$` (which dollar-quote tags lack).
fn tag_cont(b: u8) -> bool {
    ident_start(b) || b.is_ascii_digit()
}

impl<'s> Lexer<'s> {
    fn new(sql: &'s str, params: Option<usize>) -> Lexer<'s> {
        Lexer {
            sql: sql.as_bytes(),
            at: 0,
            text_start: 0,
            pieces: Vec::new(),
            params,
            used: vec![false; params.unwrap_or(0)],
            depth: 0,
            what: if params.is_some() {
                "a raw SQL filter"
            } else {
                "a SQL script"
            },
            statements: Vec::new(),
            statement_start: 0,
            code_since_end: false,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.sql.get(self.at + ahead).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.sql[self.at..].starts_with(s)
    }

    /// Lexes the whole fragment; returns whether it ends in a `--` comment.
    fn run(&mut self) -> Result<bool, String> {
        while let Some(b) = self.peek(0) {
            let comment = (b == b'-' && self.peek(1) == Some(b'-'))
                || (b == b'/' && self.peek(1) == Some(b'*'));
            if !comment && !b.is_ascii_whitespace() && b != b';' {
                self.code_since_end = true;
            }
            match b {
                b'\'' => self.quoted(b'\'', false, "string literal")?,
                b'"' => self.quoted(b'"', false, "quoted identifier")?,
                b'-' if self.peek(1) == Some(b'-') => {
                    match self.sql[self.at..].iter().position(|&c| c == b'\n') {
                        Some(end) => self.at += end + 1,
                        None => {
                            self.at = self.sql.len();
                            self.flush();
                            return self.finish().map(|()| true);
                        }
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment()?,
                b'$' => self.dollar()?,
                b';' if self.params.is_none() => {
                    if std::mem::take(&mut self.code_since_end) {
                        self.statements.push(self.statement_start..self.at);
                    }
                    self.at += 1;
                    self.statement_start = self.at;
                }
                b'(' | b')' if self.params.is_none() => self.at += 1,
                b'(' => {
                    self.depth += 1;
                    self.at += 1;
                }
                b')' => {
                    self.depth = self.depth.checked_sub(1).ok_or_else(|| {
                        format!("unbalanced `)` at byte {} of {}", self.at, self.what)
                    })?;
                    self.at += 1;
                }
                b if ident_start(b) => self.word()?,
                _ => self.at += 1,
            }
        }
        self.flush();
        self.finish().map(|()| false)
    }

    fn finish(&self) -> Result<(), String> {
        match self.depth {
            0 => Ok(()),
            n => Err(format!("{n} unclosed `(` in {}", self.what)),
        }
    }

    /// Ends the current text piece before a placeholder (or at the end).
    fn flush(&mut self) {
        if self.text_start < self.at {
            self.pieces.push(Piece::Text(self.text_start..self.at));
        }
        self.text_start = self.at;
    }

    /// An identifier or key word (`$` may follow its first character), or
    /// the prefix of a literal: `E'...'` (backslash escapes), `U&'...'`,
    /// `U&"..."`. `B'...'`, `X'...'` and `N'...'` need nothing special.
    fn word(&mut self) -> Result<(), String> {
        let start = self.at;
        self.at += 1;
        while self.peek(0).is_some_and(|b| tag_cont(b) || b == b'$') {
            self.at += 1;
        }
        let word = &self.sql[start..self.at];
        if word.eq_ignore_ascii_case(b"e") && self.peek(0) == Some(b'\'') {
            self.quoted(b'\'', true, "string literal")?;
        } else if word.eq_ignore_ascii_case(b"u") && self.starts_with(b"&'") {
            self.at += 1;
            self.quoted(b'\'', false, "string literal")?;
        } else if word.eq_ignore_ascii_case(b"u") && self.starts_with(b"&\"") {
            self.at += 1;
            self.quoted(b'"', false, "quoted identifier")?;
        }
        Ok(())
    }

    /// A quoted run from the opening `quote` to its close; a doubled quote
    /// is part of it, and so, with `backslash`, is `\` and what follows.
    fn quoted(&mut self, quote: u8, backslash: bool, what: &str) -> Result<(), String> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek(0) {
                None => {
                    return Err(format!(
                        "unterminated {what} at byte {start} of {}",
                        self.what
                    ))
                }
                Some(b'\\') if backslash => self.at += 2,
                Some(b) if b == quote => {
                    self.at += 1;
                    if self.peek(0) == Some(quote) {
                        self.at += 1;
                    } else {
                        return Ok(());
                    }
                }
                Some(_) => self.at += 1,
            }
        }
    }

    /// `/* ... */`, which nests in PostgreSQL.
    fn block_comment(&mut self) -> Result<(), String> {
        let start = self.at;
        let mut depth = 0usize;
        while self.at < self.sql.len() {
            if self.starts_with(b"/*") {
                depth += 1;
                self.at += 2;
            } else if self.starts_with(b"*/") {
                depth -= 1;
                self.at += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.at += 1;
            }
        }
        Err(format!(
            "unterminated /* comment at byte {start} of {}",
            self.what
        ))
    }

    /// `$n` (a placeholder; text in a script), `$tag$...$tag$` (a dollar
    /// quote), or a lone `$`.
    fn dollar(&mut self) -> Result<(), String> {
        let start = self.at;
        let digits = self.sql[start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let Some(params) = self.params.filter(|_| digits > 0) else {
            return self.dollar_quote(start);
        };
        let number = std::str::from_utf8(&self.sql[start + 1..start + 1 + digits])
            .ok()
            .and_then(|d| d.parse::<usize>().ok());
        let placeholder = String::from_utf8_lossy(&self.sql[start..start + 1 + digits]);
        let index = match number {
            Some(0) => {
                return Err(format!(
                    "placeholder {placeholder} in a raw SQL filter: placeholders start at $1"
                ))
            }
            Some(n) if n <= params => n - 1,
            _ => {
                return Err(format!(
                    "placeholder {placeholder} in a raw SQL filter that has {} parameter{}",
                    params,
                    if params == 1 { "" } else { "s" }
                ))
            }
        };
        self.flush();
        self.pieces.push(Piece::Param(index));
        self.used[index] = true;
        self.at += 1 + digits;
        self.text_start = self.at;
        Ok(())
    }

    /// `$tag$...$tag$` (a dollar quote), or a lone `$` (the `$` of a
    /// script's `$n` too).
    fn dollar_quote(&mut self, start: usize) -> Result<(), String> {
        let tag_len = match self.peek(1) {
            Some(b) if ident_start(b) => {
                1 + self.sql[start + 2..]
                    .iter()
                    .take_while(|&&b| tag_cont(b))
                    .count()
            }
            _ => 0,
        };
        if self.sql.get(start + 1 + tag_len) != Some(&b'$') {
            self.at += 1; // a lone `$`: the server will say what it thinks
            return Ok(());
        }
        let delimiter = &self.sql[start..start + tag_len + 2];
        let body = start + delimiter.len();
        match self.sql[body..]
            .windows(delimiter.len())
            .position(|w| w == delimiter)
        {
            Some(end) => {
                self.at = body + end + delimiter.len();
                Ok(())
            }
            None => Err(format!(
                "unterminated dollar quote {} at byte {start} of {}",
                String::from_utf8_lossy(delimiter),
                self.what
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{split_statements, Fragment};

    /// The fragment with `$n` renumbered as `$<n + 10>`.
    fn shifted(sql: &str, params: usize) -> Result<String, String> {
        let placeholders: Vec<String> = (1..=params).map(|n| format!("${}", n + 10)).collect();
        Fragment::parse(sql, params).map(|f| f.render(sql, &placeholders))
    }

    #[test]
    fn placeholders_outside_quotes_are_renumbered() {
        assert_eq!(
            shifted("lower(email) = lower($1) AND n > $2", 2).unwrap(),
            "lower(email) = lower($11) AND n > $12"
        );
        assert_eq!(
            shifted("$2 < $1 AND $1 < 5", 2).unwrap(),
            "$12 < $11 AND $11 < 5"
        );
        assert_eq!(shifted("x=$1", 1).unwrap(), "x=$11");
        assert_eq!(shifted("x = $1::int", 1).unwrap(), "x = $11::int");
    }

    #[test]
    fn quoted_text_and_comments_are_left_alone() {
        let cases = [
            "title = '$1' AND n = $1",
            "title = 'it''s $1' AND n = $1",
            "title = E'it\\'s $1' AND n = $1",
            "title = e'\\\\' AND n = $1",
            "title = U&'$1' AND n = $1",
            "\"$1 col\" = $1",
            "\"a\"\"$1\" = $1",
            "U&\"$1\" = $1",
            "n = $1 -- $1 in a comment\n",
            "/* $1 /* nested $1 */ still $1 */ n = $1",
            "body = $$ $1 $$ AND n = $1",
            "body = $tag$ $1 $$ $1 $tag$ AND n = $1",
            "a$1 = $1",
            "é$1 = $1",
        ];
        for sql in cases {
            let out = shifted(sql, 1).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(
                out.matches("$11").count(),
                1,
                "exactly the one real placeholder renumbered in {sql:?}: {out:?}"
            );
            assert_eq!(out.replacen("$11", "$1", 1), sql, "nothing else changes");
        }
    }

    #[test]
    fn a_standard_literal_has_no_backslash_escape() {
        // 'a\' ends at the second quote; $1 after it is a placeholder.
        assert_eq!(
            shifted("x = 'a\\' AND n = $1", 1).unwrap(),
            "x = 'a\\' AND n = $11"
        );
    }

    #[test]
    fn placeholders_beyond_the_parameters_are_errors() {
        let err = shifted("owner = $1", 0).unwrap_err();
        assert!(err.contains("$1") && err.contains("0 parameters"), "{err}");
        let err = shifted("a = $1 AND b = $3", 2).unwrap_err();
        assert!(err.contains("$3") && err.contains("2 parameters"), "{err}");
        assert!(shifted("a = $0", 1).unwrap_err().contains("$0"));
        assert!(shifted("a = $99999999999999999999999", 1)
            .unwrap_err()
            .contains("$99999999999999999999999"));
    }

    #[test]
    fn unused_parameters_are_errors() {
        let err = shifted("title = '$1'", 1).unwrap_err();
        assert!(err.contains("$1") && err.contains("never used"), "{err}");
        assert!(shifted("a = $1", 2).unwrap_err().contains("$2"));
    }

    #[test]
    fn a_fragment_cannot_reach_outside_its_parentheses() {
        for sql in [
            "true) OR (true",
            "(a = $1",
            "title = 'open",
            "\"open",
            "/* open",
            "/* nested /* */",
            "$x$ open",
            "E'\\'",
        ] {
            let params = usize::from(sql.contains("$1"));
            assert!(shifted(sql, params).is_err(), "{sql:?} must be refused");
        }
        assert_eq!(shifted("a = ')'", 0).unwrap(), "a = ')'");
        assert_eq!(shifted("(a) = (b)", 0).unwrap(), "(a) = (b)");
    }

    #[test]
    fn a_trailing_line_comment_ends_with_a_newline() {
        assert_eq!(shifted("n = $1 -- why", 1).unwrap(), "n = $11 -- why\n");
    }

    #[test]
    fn a_script_splits_at_semicolons_outside_quotes_and_comments() {
        let script = "-- head; comment\nCREATE TABLE a (x text DEFAULT ';');\n\
             /* ; /* ; */ ; */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$;\n\
             ;; SELECT $1, \"a;b\", E'\\';' -- tail;\n  ";
        assert_eq!(
            split_statements(script).unwrap(),
            [
                "-- head; comment\nCREATE TABLE a (x text DEFAULT ';')",
                "/* ; /* ; */ ; */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$",
                "SELECT $1, \"a;b\", E'\\';' -- tail;",
            ]
        );
        assert!(split_statements("-- only a comment\n; /* and */")
            .unwrap()
            .is_empty());
        assert_eq!(split_statements("SELECT 1").unwrap(), ["SELECT 1"]);
        let err = split_statements("SELECT 'open").unwrap_err();
        assert!(
            err.contains("unterminated") && err.contains("SQL script"),
            "{err}"
        );
    }

    #[test]
    fn a_lone_dollar_is_text() {
        assert_eq!(shifted("a = $ AND b = $1", 1).unwrap(), "a = $ AND b = $11");
    }
}
