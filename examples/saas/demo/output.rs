//! Where the demo's lines go: the terminal, or a list a test reads.

/// The demo's output, line by line.
#[derive(Debug, Default)]
pub struct Output {
    lines: Vec<String>,
    echo: bool,
}

impl Output {
    /// Prints each line as it comes (and keeps it).
    pub fn printing() -> Output {
        Output {
            lines: Vec::new(),
            echo: true,
        }
    }

    /// Keeps the lines without printing them (for the integration test).
    #[allow(dead_code)]
    pub fn capturing() -> Output {
        Output::default()
    }

    /// One line.
    pub fn line(&mut self, line: impl Into<String>) {
        let line = line.into();
        if self.echo {
            println!("{line}");
        }
        self.lines.push(line);
    }

    /// A blank line and a section title.
    pub fn heading(&mut self, title: &str) {
        self.line("");
        self.line(format!("== {title}"));
    }

    /// Every line so far (for the integration test).
    #[allow(dead_code)]
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}
