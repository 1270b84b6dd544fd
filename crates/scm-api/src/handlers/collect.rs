//! GET `/collect/{id}` with `?format=` or `/collect/{id}/{format}`: the
//! certificate in one of the reference's formats, or the pending signal that
//! connectors poll on.

use bytes::Bytes;
use ca_core::encoding::{pem, pkcs7_certs_only};
use policy::request::StateName;

use crate::error::{code, ScmError};
use crate::routes::Area;
use crate::{Ctx, Reply};

/// The download formats of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectFormat {
    /// Certificate and chain, PEM, root first, leaf last.
    X509,
    /// Certificate and chain, PEM, leaf first.
    X509Reversed,
    /// The certificate only, PEM.
    X509CertificateOnly,
    /// Root and intermediates, PEM, root first.
    X509IssuersOnly,
    /// Intermediates then root, PEM.
    X509IssuersOnlyReversed,
    /// PKCS#7 certs-only, PEM-armoured (the default).
    Base64,
    /// PKCS#7 certs-only, DER.
    Bin,
    /// Certificate and chain, PEM, root first (as `x509`).
    Pem,
    /// The certificate only, PEM.
    PemCertificateOnly,
    /// The certificate followed by its issuer, PEM.
    PemIssuerAfter,
}

impl CollectFormat {
    /// Parses a format name (case-sensitive, as the reference spells them; `x509co` and
    /// friends in lower case are accepted too).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "x509" => Self::X509,
            "x509r" => Self::X509Reversed,
            "x509co" => Self::X509CertificateOnly,
            "x509io" => Self::X509IssuersOnly,
            "x509ior" => Self::X509IssuersOnlyReversed,
            "base64" => Self::Base64,
            "bin" => Self::Bin,
            "pem" => Self::Pem,
            "pemco" => Self::PemCertificateOnly,
            "pemia" => Self::PemIssuerAfter,
            _ => return None,
        })
    }

    /// The body: `leaf` and `issuers` (issuing CA first, root last).
    pub fn encode(self, leaf: &[u8], issuers: &[Vec<u8>]) -> Result<Vec<u8>, ScmError> {
        let pems = |ders: Vec<&[u8]>| -> Vec<u8> {
            ders.into_iter()
                .map(|d| pem("CERTIFICATE", d))
                .collect::<String>()
                .into_bytes()
        };
        let root_first: Vec<&[u8]> = issuers.iter().rev().map(Vec::as_slice).collect();
        let leaf_first: Vec<&[u8]> = std::iter::once(leaf)
            .chain(issuers.iter().map(Vec::as_slice))
            .collect();
        Ok(match self {
            Self::X509 | Self::Pem => {
                let mut all = root_first.clone();
                all.push(leaf);
                pems(all)
            }
            Self::X509Reversed => pems(leaf_first),
            Self::X509CertificateOnly | Self::PemCertificateOnly => pems(vec![leaf]),
            Self::X509IssuersOnly => pems(root_first),
            Self::X509IssuersOnlyReversed => pems(issuers.iter().map(Vec::as_slice).collect()),
            Self::PemIssuerAfter => pems(leaf_first.into_iter().take(2).collect()),
            Self::Base64 | Self::Bin => {
                let der = pkcs7_certs_only(&leaf_first).map_err(|e| {
                    ScmError::new(
                        http::StatusCode::INTERNAL_SERVER_ERROR,
                        code::INTERNAL,
                        e.to_string(),
                    )
                })?;
                if self == Self::Bin {
                    der
                } else {
                    pem("PKCS7", &der).into_bytes()
                }
            }
        })
    }

    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Base64 | Self::Bin => "p7b",
            Self::X509CertificateOnly | Self::PemCertificateOnly => "crt",
            _ => "pem",
        }
    }
}

/// The handler.
pub async fn collect(
    ctx: &Ctx,
    area: Area,
    id: u64,
    path_format: Option<String>,
) -> Result<Reply, ScmError> {
    let name = path_format
        .or_else(|| ctx.param("format").map(str::to_string))
        .unwrap_or_else(|| "base64".to_string());
    let format = CollectFormat::parse(&name).ok_or_else(|| {
        ScmError::bad(
            code::BAD_FORMAT,
            format!(
                "Unknown format '{}'",
                name.chars().take(32).collect::<String>()
            ),
        )
    })?;
    let body = ctx
        .run(move |ra, admin| {
            let request = super::lifecycle::area_request(ra, admin, area, id)?;
            let certificate = match (request.state.name(), request.state.certificate()) {
                (StateName::Requested | StateName::Approved, _) => return Err(ScmError::pending()),
                (StateName::Declined, _) => {
                    return Err(ScmError::bad(
                        code::CANNOT_DECIDE,
                        "The request was declined",
                    ))
                }
                (StateName::Revoked, _) => {
                    return Err(ScmError::bad(
                        code::REVOKED_NO_DOWNLOAD,
                        "The certificate is revoked and cannot be downloaded",
                    ))
                }
                (_, Some(c)) => c,
                (state, None) => {
                    return Err(ScmError::bad(
                        code::NOT_ISSUED,
                        format!(
                            "The request is {}; there is no certificate",
                            crate::views::status(state)
                        ),
                    ))
                }
            };
            let owned = ra.certificate(admin, certificate)?;
            // An imported certificate's issuers are not ours: it comes alone.
            let issuers = if owned.owner.external {
                Vec::new()
            } else {
                ra.ca().issuer_chain(&owned.record).map_err(|e| {
                    ScmError::from_ra(&policy::registry::RaError::Ca(e), code::NOT_FOUND)
                })?
            };
            let body = format.encode(&owned.record.der, &issuers)?;
            ra.record_download(admin, certificate, &format!("scm {name}"))?;
            Ok(body)
        })
        .await?;
    Ok(Reply::File {
        filename: format!("certificate-{id}.{}", format.extension()),
        body: Bytes::from(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(body: &[u8]) -> Vec<String> {
        String::from_utf8(body.to_vec())
            .unwrap()
            .split("-----END CERTIFICATE-----")
            .filter(|b| b.contains("BEGIN"))
            .map(|b| b.trim().to_string())
            .collect()
    }

    #[test]
    fn chain_orders_follow_the_reference() {
        let leaf = b"leaf".to_vec();
        let issuers = vec![b"issuing".to_vec(), b"root".to_vec()];
        let p = |d: &[u8]| {
            pem("CERTIFICATE", d)
                .replace("-----END CERTIFICATE-----", "")
                .trim()
                .to_string()
        };
        let order = |f: CollectFormat| blocks(&f.encode(&leaf, &issuers).unwrap());
        assert_eq!(
            order(CollectFormat::X509),
            vec![p(b"root"), p(b"issuing"), p(b"leaf")]
        );
        assert_eq!(order(CollectFormat::Pem), order(CollectFormat::X509));
        assert_eq!(
            order(CollectFormat::X509Reversed),
            vec![p(b"leaf"), p(b"issuing"), p(b"root")]
        );
        assert_eq!(order(CollectFormat::X509CertificateOnly), vec![p(b"leaf")]);
        assert_eq!(
            order(CollectFormat::X509IssuersOnly),
            vec![p(b"root"), p(b"issuing")]
        );
        assert_eq!(
            order(CollectFormat::X509IssuersOnlyReversed),
            vec![p(b"issuing"), p(b"root")]
        );
        assert_eq!(
            order(CollectFormat::PemIssuerAfter),
            vec![p(b"leaf"), p(b"issuing")]
        );
        assert!(CollectFormat::parse("x509CO").is_some());
        assert!(CollectFormat::parse("pkcs12").is_none());
    }
}
