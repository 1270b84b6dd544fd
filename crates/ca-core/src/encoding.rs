//! Export encodings of a certificate: DER, PEM, PEM with chain, chain only,
//! and PKCS#7 certs-only (DER and PEM).

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::asn1::SetOfVec;
use der::{Decode, Encode};

use serde::{Deserialize, Serialize};

/// The formats a certificate can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// The certificate, DER.
    Der,
    /// The certificate, PEM.
    Pem,
    /// The certificate followed by its issuers (not the root), PEM.
    PemChain,
    /// The certificate followed by every issuer including the root, PEM.
    PemFullChain,
    /// The issuers only (no end-entity certificate), PEM.
    ChainOnly,
    /// PKCS#7 certs-only, DER.
    Pkcs7Der,
    /// PKCS#7 certs-only, PEM.
    Pkcs7Pem,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 7] = [
        ExportFormat::Der,
        ExportFormat::Pem,
        ExportFormat::PemChain,
        ExportFormat::PemFullChain,
        ExportFormat::ChainOnly,
        ExportFormat::Pkcs7Der,
        ExportFormat::Pkcs7Pem,
    ];

    /// The HTTP media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Der => "application/pkix-cert",
            ExportFormat::Pem
            | ExportFormat::PemChain
            | ExportFormat::PemFullChain
            | ExportFormat::ChainOnly => "application/pem-certificate-chain",
            ExportFormat::Pkcs7Der => "application/pkcs7-mime",
            ExportFormat::Pkcs7Pem => "application/x-pem-file",
        }
    }

    /// The usual file extension.
    pub fn file_extension(self) -> &'static str {
        match self {
            ExportFormat::Der => "crt",
            ExportFormat::Pem
            | ExportFormat::PemChain
            | ExportFormat::PemFullChain
            | ExportFormat::ChainOnly => "pem",
            ExportFormat::Pkcs7Der => "p7b",
            ExportFormat::Pkcs7Pem => "p7b.pem",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "der" | "crt" | "cer" => Ok(ExportFormat::Der),
            "pem" => Ok(ExportFormat::Pem),
            "pem-chain" | "chain-pem" => Ok(ExportFormat::PemChain),
            "pem-full-chain" | "fullchain" => Ok(ExportFormat::PemFullChain),
            "chain-only" | "chain" => Ok(ExportFormat::ChainOnly),
            "pkcs7" | "pkcs7-der" | "p7b" => Ok(ExportFormat::Pkcs7Der),
            "pkcs7-pem" => Ok(ExportFormat::Pkcs7Pem),
            other => Err(format!(
                "unknown format '{other}' (one of der, pem, pem-chain, pem-full-chain, chain-only, pkcs7-der, pkcs7-pem)"
            )),
        }
    }
}

/// Why an export failed (only for corrupt stored DER).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode certificate: {0}")]
pub struct EncodingError(String);

/// PEM text of one DER object.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A degenerate (certs-only) PKCS#7 SignedData holding `certificates`, DER.
///
/// The `certificates` field is a DER SET, so the order of the chain is not kept.
pub fn pkcs7_certs_only(certificates: &[&[u8]]) -> Result<Vec<u8>, EncodingError> {
    let err = |e: der::Error| EncodingError(e.to_string());
    let mut set = SetOfVec::new();
    for der in certificates {
        let cert = x509_cert::Certificate::from_der(der).map_err(err)?;
        set.insert(CertificateChoices::Certificate(cert))
            .map_err(err)?;
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(set)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: der::Any::encode_from(&signed).map_err(err)?,
    };
    info.to_der().map_err(err)
}

/// A PKCS#12 file holding a private key (PKCS#8 DER), its certificate and the
/// issuers, for the cases where the CA generated the key (server-side key
/// generation). PBES2 with AES-256-CBC and an HMAC-SHA256 MAC, OpenSSL 3's
/// defaults; the legacy RC2/3DES schemes are not offered.
pub fn pkcs12(
    certificate: &[u8],
    chain: &[Vec<u8>],
    private_key_pkcs8: &[u8],
    password: &str,
    friendly_name: &str,
) -> Result<Vec<u8>, EncodingError> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let err = |e: p12_keystore::error::Error| EncodingError(format!("PKCS#12: {e}"));
    if password.len() < 4 {
        return Err(EncodingError(
            "a PKCS#12 password must be at least 4 characters".into(),
        ));
    }
    let key_pair = crate::keys::SigningKeyPair::from_pkcs8_der(
        private_key_pkcs8,
        crate::keys::SignatureHash::Sha256,
    )
    .map_err(|e| EncodingError(format!("PKCS#12 key: {e}")))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate)
        .map_err(|e| EncodingError(format!("PKCS#12 certificate: {e}")))?;
    if parsed.public_key().raw != key_pair.public_key_spki_der().as_slice() {
        return Err(EncodingError(
            "the private key does not belong to the certificate".into(),
        ));
    }
    let mut certs = vec![Certificate::from_der(certificate).map_err(err)?];
    for der in chain {
        certs.push(Certificate::from_der(der).map_err(err)?);
    }
    let key = PrivateKey::from_der(private_key_pkcs8).map_err(err)?;
    let local_key_id =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, certificate);
    let mut store = KeyStore::new();
    store.add_entry(
        friendly_name,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id.as_ref(), key, certs)),
    );
    store
        .writer(password)
        .encryption_iterations(100_000)
        .mac_iterations(100_000)
        .write()
        .map_err(err)
}

/// Encodes a certificate with its issuers (`chain`: parent first, root last).
pub fn export(
    format: ExportFormat,
    certificate: &[u8],
    chain: &[Vec<u8>],
) -> Result<Vec<u8>, EncodingError> {
    let without_root = match chain.len() {
        0 => &chain[..0],
        n => &chain[..n - 1],
    };
    Ok(match format {
        ExportFormat::Der => certificate.to_vec(),
        ExportFormat::Pem => pem("CERTIFICATE", certificate).into_bytes(),
        ExportFormat::PemChain | ExportFormat::PemFullChain => {
            let issuers = if format == ExportFormat::PemChain {
                without_root
            } else {
                chain
            };
            let mut out = pem("CERTIFICATE", certificate);
            for der in issuers {
                out.push_str(&pem("CERTIFICATE", der));
            }
            out.into_bytes()
        }
        ExportFormat::ChainOnly => chain
            .iter()
            .map(|d| pem("CERTIFICATE", d))
            .collect::<String>()
            .into_bytes(),
        ExportFormat::Pkcs7Der | ExportFormat::Pkcs7Pem => {
            let mut all: Vec<&[u8]> = vec![certificate];
            all.extend(chain.iter().map(Vec::as_slice));
            let der = pkcs7_certs_only(&all)?;
            if format == ExportFormat::Pkcs7Der {
                der
            } else {
                pem("PKCS7", &der).into_bytes()
            }
        }
    })
}
