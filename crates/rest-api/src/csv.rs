//! CSV output (RFC 4180), written by hand: fields with a comma, quote or line
//! break are quoted with inner quotes doubled, and a field that a spreadsheet
//! would take for a formula is prefixed with an apostrophe (OWASP's advice on
//! CSV injection): subjects and names of imported certificates are chosen by
//! whoever made them.

/// A CSV document being written, CRLF-terminated as RFC 4180 asks.
#[derive(Debug, Default)]
pub struct CsvWriter {
    out: String,
}

impl CsvWriter {
    /// A document with a header row.
    pub fn with_header(columns: &[&str]) -> Self {
        let mut w = Self::default();
        w.row(columns.iter().copied());
        w
    }

    /// Appends one row.
    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.field(field);
        }
        self.out.push_str("\r\n");
    }

    fn field(&mut self, value: &str) {
        let defused;
        let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            defused = format!("'{value}");
            defused.as_str()
        } else {
            value
        };
        if value.contains([',', '"', '\n', '\r']) {
            self.out.push('"');
            self.out.push_str(&value.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(value);
        }
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses() {
        let mut w = CsvWriter::with_header(&["a", "b"]);
        w.row(["x,y", "say \"hi\""]);
        w.row(["=HYPERLINK(1)", "line\nbreak"]);
        w.row(["", "plain"]);
        assert_eq!(
            w.finish(),
            "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n'=HYPERLINK(1),\"line\nbreak\"\r\n,plain\r\n"
        );
    }
}
