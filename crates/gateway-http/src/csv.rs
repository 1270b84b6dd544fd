//! CSV output (RFC 4180), written by hand: fields with a comma, quote or line
//! break are quoted with inner quotes doubled, and a field that a spreadsheet
//! would take for a formula is prefixed with an apostrophe (OWASP's advice on
//! CSV injection): subjects and names of imported certificates are chosen by
//! whoever made them.
//!
//! [`certificates_csv`] is the one certificate export that the REST API's
//! `/certificates.csv` and the console's CSV download both give.

use policy::model::Administrator;
use policy::registry::{CertificateFilter, OwnedCertificate, RaError, RegistrationAuthority};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The columns of a certificate export, in order.
pub const CERTIFICATE_COLUMNS: [&str; 17] = [
    "id",
    "serial",
    "status",
    "subject",
    "names",
    "profile",
    "issuer",
    "not_before",
    "not_after",
    "requester",
    "issued_at",
    "org",
    "dept",
    "request",
    "external",
    "revoked_at",
    "revocation_reason",
];

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// One certificate's row of [`CERTIFICATE_COLUMNS`].
pub fn certificate_row(c: &OwnedCertificate) -> [String; 17] {
    let r = &c.record;
    let (revoked_at, reason) = match &r.status {
        ca_core::certificates::CertificateStatus::Revoked {
            revoked_at, reason, ..
        } => (rfc3339(*revoked_at), reason.as_str().to_string()),
        _ => (String::new(), String::new()),
    };
    let names: Vec<String> = r.names.iter().map(ToString::to_string).collect();
    [
        r.id.to_string(),
        r.serial.to_hex(),
        r.status.name().to_string(),
        r.subject.clone(),
        names.join(" "),
        r.profile.clone(),
        r.issuer_id.clone(),
        rfc3339(r.not_before),
        rfc3339(r.not_after),
        r.requester.clone(),
        rfc3339(r.issued_at),
        c.owner.org.0.to_string(),
        c.owner.dept.map(|d| d.0.to_string()).unwrap_or_default(),
        c.owner.request.map(|q| q.0.to_string()).unwrap_or_default(),
        c.owner.external.to_string(),
        revoked_at,
        reason,
    ]
}

/// Every certificate the actor may see that matches, as CSV with a header row;
/// read page by page so that a large export never holds every record (and its
/// DER) at once.
pub fn certificates_csv(
    ra: &RegistrationAuthority,
    actor: &Administrator,
    filter: &CertificateFilter,
) -> Result<String, RaError> {
    const CHUNK: usize = 500;
    let mut csv = CsvWriter::with_header(&CERTIFICATE_COLUMNS);
    let mut after = 0;
    loop {
        let chunk = ra.certificates(actor, filter, after, CHUNK)?;
        for c in &chunk {
            csv.row(certificate_row(c).iter().map(String::as_str));
        }
        match chunk.last() {
            Some(last) if chunk.len() == CHUNK => after = last.record.id,
            _ => return Ok(csv.finish()),
        }
    }
}

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
