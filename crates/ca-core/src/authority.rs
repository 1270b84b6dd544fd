//! CA hierarchies: creating roots and issuing CAs, the external-root variant
//! (export a CSR, import the signed certificate), and loading the CAs a data
//! directory holds.
//!
//! Layout, one folder per CA under `<data-dir>/cas/<id>/`:
//! `ca.toml` (metadata), `certificate.pem`, `chain.pem` (the issuer's chain,
//! parent first, up to the root), `key.pem` (PKCS#8, encrypted unless the
//! insecure setting is on) and, for an issuing CA waiting for an external
//! root, `request.csr`.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, GeneralSubtree, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::extensions;
use crate::keys::{KeyAlgorithm, KeyError, KeyProtection, SignatureHash, SigningKeyPair};
use crate::serial::Serial;

/// Errors creating, importing or loading a CA.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// A key problem (generation, passphrase, format).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Reading or writing the data directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A CA with this id already exists.
    #[error("a CA with id '{0}' already exists")]
    Exists(String),
    /// No CA with this id.
    #[error("no CA with id '{0}'")]
    NotFound(String),
    /// The id is not usable as a folder and URL component.
    #[error("invalid CA id '{0}': use lower-case letters, digits and '-'")]
    InvalidId(String),
    /// The parent CA cannot sign (its key is not here, or it expired).
    #[error("CA '{0}' cannot sign: {1}")]
    CannotSign(String, String),
    /// The imported certificate does not match this CA.
    #[error("the certificate does not match CA '{ca}': {reason}")]
    Mismatch {
        /// The CA.
        ca: String,
        /// What does not match.
        reason: String,
    },
    /// A certificate or CSR could not be built or parsed.
    #[error("certificate error: {0}")]
    Certificate(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AuthorityError + '_ {
    move |source| AuthorityError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The subject of a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CaSubject {
    /// CN.
    pub common_name: String,
    /// O.
    pub organization: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// C (two letters).
    pub country: Option<String>,
}

impl CaSubject {
    /// "<name> Root CA", O = name.
    pub fn root_for(customer: &str) -> Self {
        Self {
            common_name: format!("{customer} Root CA"),
            organization: Some(customer.to_string()),
            ..Default::default()
        }
    }

    /// "<name> Issuing CA", O = name.
    pub fn issuing_for(customer: &str) -> Self {
        Self {
            common_name: format!("{customer} Issuing CA"),
            organization: Some(customer.to_string()),
            ..Default::default()
        }
    }

    fn distinguished_name(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        if let Some(c) = &self.country {
            dn.push(DnType::CountryName, country_value(c));
        }
        if let Some(st) = &self.state {
            dn.push(DnType::StateOrProvinceName, st.as_str());
        }
        if let Some(l) = &self.locality {
            dn.push(DnType::LocalityName, l.as_str());
        }
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());
        dn
    }
}

/// Everything needed to create one CA.
#[derive(Debug, Clone)]
pub struct NewCa {
    /// The CA's id (folder and URL name).
    pub id: String,
    /// Its subject.
    pub subject: CaSubject,
    /// Its key type.
    pub key_algorithm: KeyAlgorithm,
    /// The hash it signs with (RSA keys; ECDSA keys use their curve's hash).
    pub hash: SignatureHash,
    /// Lifetime in days (clamped to the parent's remaining lifetime).
    pub validity_days: u32,
    /// Path-length constraint; `None` for unconstrained.
    pub path_len: Option<u8>,
    /// Permitted DNS subtrees (name constraints); empty for none.
    pub permitted_dns: Vec<String>,
    /// Excluded DNS subtrees.
    pub excluded_dns: Vec<String>,
}

/// A CA's role in its hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaRole {
    /// Self-signed.
    Root,
    /// Signed by a parent CA here.
    Issuing,
    /// Signed by a root (or parent) that is not held here.
    ExternallySigned,
}

/// Whether a CA can be used yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaState {
    /// Has its certificate.
    Active,
    /// Has a key and a CSR, waits for its certificate to be imported.
    AwaitingCertificate,
}

/// `ca.toml`: what the folder cannot say by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaMetadata {
    /// The CA's id.
    pub id: String,
    /// Root, issuing, or externally signed.
    pub role: CaRole,
    /// The parent CA's id when the parent is held here.
    pub parent: Option<String>,
    /// The key type.
    pub key_algorithm: KeyAlgorithm,
    /// The signing hash.
    pub hash: SignatureHash,
    /// Active or waiting for its certificate.
    pub state: CaState,
    /// When it was created (RFC 3339).
    pub created: String,
}

/// The base URL published in certificates (CDP, AIA) and where each URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationUrls {
    base: String,
}

impl PublicationUrls {
    /// URLs under this base, e.g. `http://pki.example.com` (no trailing slash needed).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The CRL of a CA.
    pub fn crl(&self, ca_id: &str) -> String {
        format!("{}/crl/{ca_id}.crl", self.base)
    }

    /// The DER certificate of a CA (AIA caIssuers).
    pub fn ca_certificate(&self, ca_id: &str) -> String {
        format!("{}/ca/{ca_id}.crt", self.base)
    }

    /// The OCSP responder.
    pub fn ocsp(&self) -> String {
        format!("{}/ocsp", self.base)
    }
}

/// A CA loaded from the data directory: its certificate, chain and (when held here) its signer.
pub struct CertificationAuthority {
    metadata: CaMetadata,
    certificate_der: Vec<u8>,
    chain_der: Vec<Vec<u8>>,
    signer: Option<Issuer<'static, KeyPair>>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    subject_der: Vec<u8>,
    spki_bits: Vec<u8>,
    subject_text: String,
}

impl std::fmt::Debug for CertificationAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificationAuthority")
            .field("id", &self.metadata.id)
            .field("subject", &self.subject_text)
            .field("has_key", &self.signer.is_some())
            .finish()
    }
}

impl CertificationAuthority {
    fn from_parts(
        metadata: CaMetadata,
        certificate_der: Vec<u8>,
        chain_der: Vec<Vec<u8>>,
        key: Option<SigningKeyPair>,
    ) -> Result<Self, AuthorityError> {
        let (_, cert) = X509Certificate::from_der(&certificate_der).map_err(|e| {
            AuthorityError::Certificate(format!("CA '{}' certificate: {e}", metadata.id))
        })?;
        let spki_bits = cert.public_key().subject_public_key.data.to_vec();
        if let Some(key) = &key {
            let key_spki = key.public_key_spki_der();
            if key_spki != cert.public_key().raw {
                return Err(AuthorityError::Mismatch {
                    ca: metadata.id.clone(),
                    reason: "the certificate's public key is not this CA's key".into(),
                });
            }
        }
        let signer = match key {
            Some(key) => Some(
                Issuer::from_ca_cert_der(
                    &CertificateDer::from(certificate_der.as_slice()),
                    key.into_key_pair(),
                )
                .map_err(|e| AuthorityError::Certificate(e.to_string()))?,
            ),
            None => None,
        };
        Ok(Self {
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            subject_der: cert.subject().as_raw().to_vec(),
            subject_text: cert.subject().to_string(),
            spki_bits,
            metadata,
            certificate_der,
            chain_der,
            signer,
        })
    }

    /// The CA's id.
    pub fn id(&self) -> &str {
        &self.metadata.id
    }

    /// Its metadata.
    pub fn metadata(&self) -> &CaMetadata {
        &self.metadata
    }

    /// Its certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// Its issuers, parent first, up to the root (empty for a root).
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// Its subject, DER-encoded Name (for OCSP CertID matching).
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// Its subject as text.
    pub fn subject_text(&self) -> &str {
        &self.subject_text
    }

    /// The public key bits (subjectPublicKey BIT STRING contents), for OCSP key hashes.
    pub fn public_key_bits(&self) -> &[u8] {
        &self.spki_bits
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The rcgen issuer, if the key is held here.
    pub fn signer(&self) -> Option<&Issuer<'static, KeyPair>> {
        self.signer.as_ref()
    }

    /// The signer, or why this CA cannot sign now.
    pub fn usable_signer(
        &self,
        now: OffsetDateTime,
    ) -> Result<&Issuer<'static, KeyPair>, AuthorityError> {
        let signer = self.signer.as_ref().ok_or_else(|| {
            AuthorityError::CannotSign(self.id().into(), "its private key is not held here".into())
        })?;
        if now >= self.not_after {
            return Err(AuthorityError::CannotSign(
                self.id().into(),
                "its certificate has expired".into(),
            ));
        }
        Ok(signer)
    }

    /// Whether this is a self-signed root.
    pub fn is_root(&self) -> bool {
        self.metadata.role == CaRole::Root
    }
}

fn validate_id(id: &str) -> Result<(), AuthorityError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(AuthorityError::InvalidId(id.to_string()))
    }
}

/// countryName is a PrintableString (RFC 5280 appendix A); rcgen's default is UTF8String.
pub(crate) fn country_value(code: &str) -> rcgen::DnValue {
    match rcgen::string::PrintableString::try_from(code.to_string()) {
        Ok(p) => rcgen::DnValue::PrintableString(p),
        Err(_) => rcgen::DnValue::Utf8String(code.to_string()),
    }
}

/// The CAs of one data directory.
#[derive(Debug, Clone)]
pub struct CaDirectory {
    root: PathBuf,
}

/// Every `CERTIFICATE` block of a PEM text, as DER.
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, AuthorityError> {
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|e| AuthorityError::Certificate(format!("bad PEM: {e}")))?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    Ok(out)
}

impl CaDirectory {
    /// The CAs under `<data_dir>/cas`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("cas"),
        }
    }

    fn folder(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Ids of the CAs present.
    pub fn ids(&self) -> Result<Vec<String>, AuthorityError> {
        let mut ids = Vec::new();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(io_err(&self.root)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_err(&self.root))?;
            if entry.path().join("ca.toml").is_file() {
                ids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Reads one CA's metadata.
    pub fn metadata(&self, id: &str) -> Result<CaMetadata, AuthorityError> {
        let path = self.folder(id).join("ca.toml");
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                AuthorityError::NotFound(id.to_string())
            } else {
                io_err(&path)(e)
            }
        })?;
        toml::from_str(&text)
            .map_err(|e| AuthorityError::Certificate(format!("{}: {e}", path.display())))
    }

    fn write_new(
        &self,
        metadata: &CaMetadata,
        files: &[(&str, &[u8])],
    ) -> Result<(), AuthorityError> {
        let folder = self.folder(&metadata.id);
        if folder.exists() {
            return Err(AuthorityError::Exists(metadata.id.clone()));
        }
        // Write into a temporary folder and rename, so a crash leaves no half-made CA.
        let staging = self.root.join(format!(".{}.new", metadata.id));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        let meta_text =
            toml::to_string(metadata).map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        let mut all: Vec<(&str, &[u8])> = vec![("ca.toml", meta_text.as_bytes())];
        all.extend_from_slice(files);
        for (name, bytes) in all {
            let path = staging.join(name);
            write_private(&path, bytes, name == "key.pem")?;
        }
        fs::rename(&staging, &folder).map_err(io_err(&folder))?;
        sync_dir(&self.root);
        Ok(())
    }

    /// Creates a self-signed root CA.
    pub fn create_root(
        &self,
        spec: &NewCa,
        protection: &KeyProtection,
    ) -> Result<(), AuthorityError> {
        validate_id(&spec.id)?;
        if self.folder(&spec.id).exists() {
            return Err(AuthorityError::Exists(spec.id.clone()));
        }
        let key = SigningKeyPair::generate(spec.key_algorithm, spec.hash)?;
        let now = OffsetDateTime::now_utc();
        let params = ca_params(
            spec,
            now,
            now + Duration::days(spec.validity_days.into()),
            None,
        )?;
        let cert = params
            .self_signed(key.key_pair())
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        let key_pem = key.to_protected_pem(protection)?;
        let cert_pem = crate::encoding::pem("CERTIFICATE", cert.der());
        self.write_new(
            &CaMetadata {
                id: spec.id.clone(),
                role: CaRole::Root,
                parent: None,
                key_algorithm: spec.key_algorithm,
                hash: spec.hash,
                state: CaState::Active,
                created: rfc3339(now),
            },
            &[
                ("certificate.pem", cert_pem.as_bytes()),
                ("chain.pem", b""),
                ("key.pem", key_pem.as_bytes()),
            ],
        )
    }

    /// Creates a CA signed by a parent held here (any depth).
    pub fn create_subordinate(
        &self,
        spec: &NewCa,
        parent_id: &str,
        protection: &KeyProtection,
        urls: Option<&PublicationUrls>,
    ) -> Result<(), AuthorityError> {
        validate_id(&spec.id)?;
        if self.folder(&spec.id).exists() {
            return Err(AuthorityError::Exists(spec.id.clone()));
        }
        let parent = self.load(parent_id, protection)?;
        let now = OffsetDateTime::now_utc();
        let signer = parent.usable_signer(now)?;
        let not_after = (now + Duration::days(spec.validity_days.into())).min(parent.not_after());
        let key = SigningKeyPair::generate(spec.key_algorithm, spec.hash)?;
        let mut params = ca_params(spec, now, not_after, urls.map(|u| (u, parent_id)))?;
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(key.key_pair(), signer)
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        let mut chain = crate::encoding::pem("CERTIFICATE", parent.certificate_der());
        for der in parent.chain_der() {
            chain.push_str(&crate::encoding::pem("CERTIFICATE", der));
        }
        let key_pem = key.to_protected_pem(protection)?;
        self.write_new(
            &CaMetadata {
                id: spec.id.clone(),
                role: CaRole::Issuing,
                parent: Some(parent_id.to_string()),
                key_algorithm: spec.key_algorithm,
                hash: spec.hash,
                state: CaState::Active,
                created: rfc3339(now),
            },
            &[
                (
                    "certificate.pem",
                    crate::encoding::pem("CERTIFICATE", cert.der()).as_bytes(),
                ),
                ("chain.pem", chain.as_bytes()),
                ("key.pem", key_pem.as_bytes()),
            ],
        )
    }

    /// Creates an issuing CA's key and returns its CSR (PEM) for an external or offline root to sign.
    pub fn create_external(
        &self,
        spec: &NewCa,
        protection: &KeyProtection,
    ) -> Result<String, AuthorityError> {
        validate_id(&spec.id)?;
        if self.folder(&spec.id).exists() {
            return Err(AuthorityError::Exists(spec.id.clone()));
        }
        let key = SigningKeyPair::generate(spec.key_algorithm, spec.hash)?;
        let now = OffsetDateTime::now_utc();
        let mut params = ca_params(
            spec,
            now,
            now + Duration::days(spec.validity_days.into()),
            None,
        )?;
        // A CSR carries no serial; name constraints are the external signer's to set.
        params.serial_number = None;
        params.name_constraints = None;
        let csr = params
            .serialize_request(key.key_pair())
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        let csr_pem = csr
            .pem()
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        let key_pem = key.to_protected_pem(protection)?;
        self.write_new(
            &CaMetadata {
                id: spec.id.clone(),
                role: CaRole::ExternallySigned,
                parent: None,
                key_algorithm: spec.key_algorithm,
                hash: spec.hash,
                state: CaState::AwaitingCertificate,
                created: rfc3339(now),
            },
            &[
                ("request.csr", csr_pem.as_bytes()),
                ("key.pem", key_pem.as_bytes()),
            ],
        )?;
        Ok(csr_pem)
    }

    /// The pending CSR of an externally signed CA.
    pub fn pending_csr(&self, id: &str) -> Result<String, AuthorityError> {
        let path = self.folder(id).join("request.csr");
        fs::read_to_string(&path).map_err(io_err(&path))
    }

    /// Imports the signed certificate (and its chain, parent first) of an
    /// externally signed CA, after checking that it matches the CA's key, is a
    /// CA certificate, and chains to the given issuers.
    pub fn import_certificate(
        &self,
        id: &str,
        certificate_pem: &str,
        chain_pem: &str,
        protection: &KeyProtection,
    ) -> Result<(), AuthorityError> {
        let mut metadata = self.metadata(id)?;
        let folder = self.folder(id);
        let key_path = folder.join("key.pem");
        let key_text = fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let key = SigningKeyPair::from_pem(&key_text, metadata.hash, Some(protection))?;

        let mut certs = pem_certificates(certificate_pem)?;
        if certs.len() != 1 {
            return Err(AuthorityError::Certificate(format!(
                "expected one certificate, found {}",
                certs.len()
            )));
        }
        let cert_der = certs.remove(0);
        let chain = pem_certificates(chain_pem)?;
        let mismatch = |reason: &str| AuthorityError::Mismatch {
            ca: id.to_string(),
            reason: reason.to_string(),
        };
        let (_, cert) = X509Certificate::from_der(&cert_der)
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        if cert.public_key().raw != key.public_key_spki_der().as_slice() {
            return Err(mismatch("its public key is not this CA's key"));
        }
        if !cert.is_ca() {
            return Err(mismatch(
                "it is not a CA certificate (basicConstraints cA is not set)",
            ));
        }
        let issuer_der = chain
            .first()
            .ok_or_else(|| mismatch("the chain is empty; give the issuer's certificate"))?;
        let (_, issuer) = X509Certificate::from_der(issuer_der)
            .map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        if cert.issuer() != issuer.subject() {
            return Err(mismatch(
                "its issuer is not the first certificate of the chain",
            ));
        }
        cert.verify_signature(Some(issuer.public_key()))
            .map_err(|_| {
                mismatch("its signature does not verify with the chain's first certificate")
            })?;

        let mut chain_text = String::new();
        for der in &chain {
            chain_text.push_str(&crate::encoding::pem("CERTIFICATE", der));
        }
        write_private(&folder.join("chain.pem"), chain_text.as_bytes(), false)?;
        write_private(
            &folder.join("certificate.pem"),
            crate::encoding::pem("CERTIFICATE", &cert_der).as_bytes(),
            false,
        )?;
        metadata.state = CaState::Active;
        let meta_text =
            toml::to_string(&metadata).map_err(|e| AuthorityError::Certificate(e.to_string()))?;
        write_private(&folder.join("ca.toml"), meta_text.as_bytes(), false)?;
        Ok(())
    }

    /// Loads one active CA; its key is loaded when the key file is present.
    pub fn load(
        &self,
        id: &str,
        protection: &KeyProtection,
    ) -> Result<CertificationAuthority, AuthorityError> {
        let metadata = self.metadata(id)?;
        if metadata.state != CaState::Active {
            return Err(AuthorityError::CannotSign(
                id.to_string(),
                "it is waiting for its certificate to be imported".into(),
            ));
        }
        let folder = self.folder(id);
        let cert_path = folder.join("certificate.pem");
        let cert_text = fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
        let certificate_der = pem_certificates(&cert_text)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                AuthorityError::Certificate(format!("{} holds no certificate", cert_path.display()))
            })?;
        let chain_path = folder.join("chain.pem");
        let chain_der = match fs::read_to_string(&chain_path) {
            Ok(text) => pem_certificates(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&chain_path)(e)),
        };
        let key_path = folder.join("key.pem");
        let key = match fs::read_to_string(&key_path) {
            Ok(text) => Some(SigningKeyPair::from_pem(
                &text,
                metadata.hash,
                Some(protection),
            )?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&key_path)(e)),
        };
        CertificationAuthority::from_parts(metadata, certificate_der, chain_der, key)
    }

    /// Loads every active CA.
    pub fn load_all(
        &self,
        protection: &KeyProtection,
    ) -> Result<Vec<CertificationAuthority>, AuthorityError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            if self.metadata(&id)?.state == CaState::Active {
                out.push(self.load(&id, protection)?);
            }
        }
        Ok(out)
    }
}

/// CA certificate parameters shared by roots, subordinates and external CSRs.
fn ca_params(
    spec: &NewCa,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    parent_urls: Option<(&PublicationUrls, &str)>,
) -> Result<CertificateParams, AuthorityError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = spec.subject.distinguished_name();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(Serial::random().as_bytes()));
    params.is_ca = IsCa::Ca(match spec.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    if !spec.permitted_dns.is_empty() || !spec.excluded_dns.is_empty() {
        let subtree = |d: &String| -> Result<GeneralSubtree, AuthorityError> {
            Ok(GeneralSubtree::DnsName(d.to_ascii_lowercase()))
        };
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: spec
                .permitted_dns
                .iter()
                .map(subtree)
                .collect::<Result<_, _>>()?,
            excluded_subtrees: spec
                .excluded_dns
                .iter()
                .map(subtree)
                .collect::<Result<_, _>>()?,
        });
    }
    if let Some((urls, parent_id)) = parent_urls {
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![urls.crl(parent_id)],
        }];
        if let Some(aia) =
            extensions::authority_info_access(None, Some(&urls.ca_certificate(parent_id)))
                .map_err(|e| AuthorityError::Certificate(e.to_string()))?
        {
            params.custom_extensions.push(aia);
        }
    }
    Ok(params)
}

/// Writes a file durably; key files are readable by the owner only.
fn write_private(path: &Path, bytes: &[u8], secret: bool) -> Result<(), AuthorityError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

fn sync_dir(path: &Path) {
    if let Ok(dir) = fs::File::open(path) {
        let _ = dir.sync_all();
    }
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
