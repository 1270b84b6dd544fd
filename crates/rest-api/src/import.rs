//! The import body: PEM text with one or more certificates, one DER
//! certificate, or a ZIP of such files, split into DER certificates with the
//! place each came from. A ZIP is read with bounds on entries and on the
//! expanded size, so a small archive cannot expand into gigabytes.

use std::io::Read;

use http::StatusCode;

use crate::body::IMPORT_LIMIT;
use crate::error::ApiError;

/// The most certificates one import takes.
pub const MAX_CERTIFICATES: usize = 1000;
/// The most entries a ZIP may have.
const MAX_ZIP_ENTRIES: usize = 1000;
/// The most a ZIP may expand to, in all.
const MAX_EXPANDED: u64 = IMPORT_LIMIT as u64;

/// How the body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// PEM text, one or more CERTIFICATE blocks.
    Pem,
    /// One DER certificate.
    Der,
    /// A ZIP of PEM and DER files.
    Zip,
}

impl ImportFormat {
    /// The format from the Content-Type, or sniffed from the bytes when the client
    /// sent none or a generic `application/octet-stream`.
    pub fn of(media_type: Option<&str>, body: &[u8]) -> Result<Self, ApiError> {
        match media_type {
            Some("application/x-pem-file")
            | Some("application/pem-certificate-chain")
            | Some("text/plain") => Ok(ImportFormat::Pem),
            Some("application/pkix-cert") | Some("application/x-x509-ca-cert") => {
                Ok(ImportFormat::Der)
            }
            Some("application/zip") | Some("application/x-zip-compressed") => Ok(ImportFormat::Zip),
            None | Some("application/octet-stream") => Ok(sniff(body)),
            Some(other) => Err(ApiError::unsupported_media_type(format!(
                "import takes application/x-pem-file, application/pkix-cert or application/zip, not {other}"
            ))),
        }
    }
}

fn sniff(bytes: &[u8]) -> ImportFormat {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        ImportFormat::Zip
    } else if bytes.first() == Some(&0x30) {
        ImportFormat::Der
    } else {
        ImportFormat::Pem
    }
}

/// One certificate found in the body (or why a part of the body held none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportItem {
    /// Where it came from: "body", "body[2]", "certs/a.pem[1]".
    pub source: String,
    /// The DER, or what was wrong with this part.
    pub der: Result<Vec<u8>, String>,
}

/// Splits an import body into certificates.
pub fn split(format: ImportFormat, body: &[u8]) -> Result<Vec<ImportItem>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid_input(
            "the body is empty: send PEM, DER or a ZIP of certificates",
        ));
    }
    let items = match format {
        ImportFormat::Pem => pem_items("body", body),
        ImportFormat::Der => vec![ImportItem {
            source: "body".into(),
            der: Ok(body.to_vec()),
        }],
        ImportFormat::Zip => zip_items(body)?,
    };
    if items.len() > MAX_CERTIFICATES {
        return Err(ApiError::invalid_input(format!(
            "at most {MAX_CERTIFICATES} certificates per import"
        )));
    }
    Ok(items)
}

fn pem_items(source: &str, bytes: &[u8]) -> Vec<ImportItem> {
    let failed = |reason: String| {
        vec![ImportItem {
            source: source.to_string(),
            der: Err(reason),
        }]
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return failed("not PEM text (not UTF-8)".into());
    };
    match ca_core::authority::pem_certificates(text) {
        Err(e) => failed(e.to_string()),
        Ok(ders) if ders.is_empty() => failed("no CERTIFICATE block found".into()),
        Ok(ders) if ders.len() == 1 => vec![ImportItem {
            source: source.to_string(),
            der: Ok(ders.into_iter().next().unwrap_or_default()),
        }],
        Ok(ders) => ders
            .into_iter()
            .enumerate()
            .map(|(i, der)| ImportItem {
                source: format!("{source}[{}]", i + 1),
                der: Ok(der),
            })
            .collect(),
    }
}

fn zip_items(body: &[u8]) -> Result<Vec<ImportItem>, ApiError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body))
        .map_err(|e| ApiError::invalid_input(format!("not a readable ZIP archive: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(ApiError::invalid_input(format!(
            "the ZIP has more than {MAX_ZIP_ENTRIES} entries"
        )));
    }
    let mut items = Vec::new();
    let mut expanded: u64 = 0;
    for index in 0..archive.len() {
        let mut file = match archive.by_index(index) {
            Ok(f) => f,
            Err(e) => {
                items.push(ImportItem {
                    source: format!("entry {}", index + 1),
                    der: Err(format!("cannot read this entry: {e}")),
                });
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let source = file
            .name()
            .map(|n| printable(&n))
            .unwrap_or_else(|_| format!("entry {}", index + 1));
        // Read at most what is left of the budget, plus one byte to notice an overrun;
        // the declared size is not trusted.
        let budget = MAX_EXPANDED - expanded;
        let mut bytes = Vec::new();
        if let Err(e) = (&mut file).take(budget + 1).read_to_end(&mut bytes) {
            items.push(ImportItem {
                source,
                der: Err(format!("cannot decompress this entry: {e}")),
            });
            continue;
        }
        expanded += bytes.len() as u64;
        if expanded > MAX_EXPANDED {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the ZIP expands to more than {MAX_EXPANDED} bytes"),
            ));
        }
        match sniff(&bytes) {
            ImportFormat::Zip => items.push(ImportItem {
                source,
                der: Err("a ZIP inside the ZIP is not read".into()),
            }),
            ImportFormat::Der => items.push(ImportItem {
                source,
                der: Ok(bytes),
            }),
            ImportFormat::Pem => items.extend(pem_items(&source, &bytes)),
        }
        if items.len() > MAX_CERTIFICATES {
            break;
        }
    }
    if items.is_empty() {
        return Err(ApiError::invalid_input("the ZIP holds no files"));
    }
    Ok(items)
}

/// An entry name fit for an error message: no control characters, bounded length.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_type_and_by_sniffing() {
        assert_eq!(
            ImportFormat::of(Some("application/zip"), b"").unwrap(),
            ImportFormat::Zip
        );
        assert_eq!(
            ImportFormat::of(None, b"PK\x03\x04...").unwrap(),
            ImportFormat::Zip
        );
        assert_eq!(
            ImportFormat::of(None, &[0x30, 0x82]).unwrap(),
            ImportFormat::Der
        );
        assert_eq!(
            ImportFormat::of(None, b"-----BEGIN").unwrap(),
            ImportFormat::Pem
        );
        assert_eq!(
            ImportFormat::of(Some("image/png"), b"").unwrap_err().code(),
            "unsupported_media_type"
        );
    }

    #[test]
    fn broken_inputs_are_reported() {
        assert!(split(ImportFormat::Zip, b"PK\x03\x04 not really").is_err());
        let items = split(ImportFormat::Pem, b"hello").unwrap();
        assert_eq!(items.len(), 1);
        assert!(items[0].der.is_err());
        assert!(split(ImportFormat::Pem, b"").is_err());
    }
}
