//! Protocol identities: a key and a certificate from one of our CAs that a
//! protocol edge acts under, such as a SCEP endpoint's RA certificate (it
//! decrypts the devices' requests and signs the answers).
//!
//! The key is RSA (SCEP's key transport needs one), is kept in
//! `<data-dir>/identities/<name>.key.pem` protected exactly like the CA keys
//! (PKCS#8 PBES2 under the CA passphrase, or plaintext where the CA keys are),
//! and never leaves this module: callers get decryption and signing, not key
//! bytes. The certificate is issued through the CA (so it is recorded, listed
//! and revocable like any other), kept beside the key, and issued again with
//! the same key once two thirds of its life have passed or when the issuer
//! changes, so that devices holding the old certificate still reach the same
//! key.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{self, RsaKeyPair};
use zeroize::Zeroizing;

use crate::issuance::{IssuanceError, IssuanceRequest};
use crate::keys::{KeyAlgorithm, KeyProtection, SignatureHash, SigningKeyPair};
use crate::service::{CaService, CaServiceError};

/// Where identities live and how their keys are protected.
#[derive(Clone)]
pub(crate) struct IdentityDirectory {
    dir: PathBuf,
    protection: KeyProtection,
    /// Serializes creation, so two first requests do not make two keys.
    lock: std::sync::Arc<Mutex<()>>,
}

impl IdentityDirectory {
    pub(crate) fn new(data_dir: &Path, protection: KeyProtection) -> Self {
        Self {
            dir: data_dir.join("identities"),
            protection,
            lock: Default::default(),
        }
    }
}

/// The hash of an RSA PKCS#1 v1.5 signature made by an identity (no SHA-1:
/// aws-lc-rs signs with it no more, and every client verifies SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityHash {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// A protocol identity: its certificate, and its key's two operations.
pub struct ProtocolIdentity {
    certificate_der: Vec<u8>,
    issuer_id: String,
    renew_after: i64,
    decrypting: Pkcs1PrivateDecryptingKey,
    signing: RsaKeyPair,
}

impl std::fmt::Debug for ProtocolIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolIdentity")
            .field("issuer_id", &self.issuer_id)
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl ProtocolIdentity {
    /// An identity from a certificate and its RSA key (unencrypted PKCS#8 DER),
    /// for tools and tests that hold both; the gateway's own come from
    /// [`CaService::protocol_identity`].
    pub fn from_parts(certificate_der: Vec<u8>, pkcs8: &[u8]) -> Result<Self, CaServiceError> {
        let (_, cert) = x509_parser::parse_x509_certificate(&certificate_der)
            .map_err(|e| CaServiceError::NoIssuer(format!("identity certificate: {e}")))?;
        let renew_after = renew_at(
            cert.validity().not_before.timestamp(),
            cert.validity().not_after.timestamp(),
        );
        let (decrypting, signing) = rsa_operations(pkcs8)?;
        Ok(Self {
            certificate_der,
            issuer_id: String::new(),
            renew_after,
            decrypting,
            signing,
        })
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The issuing CA's id.
    pub fn issuer_id(&self) -> &str {
        &self.issuer_id
    }

    /// Whether the certificate is due for renewal at `now` (Unix time).
    pub fn due(&self, now: i64) -> bool {
        now >= self.renew_after
    }

    /// Unwraps an RSA PKCS#1 v1.5 key-transport ciphertext into a content key of
    /// `key_len` bytes, or, when the ciphertext does not decrypt to a key of that
    /// length, returns a random key of that length instead (RFC 3218 §2.3.2).
    ///
    /// The caller cannot tell the two apart, and must not: the content then fails
    /// to decrypt or to parse, and that failure is answered exactly like any other,
    /// so that the answer is no padding oracle (Bleichenbacher, Marvin).
    pub fn unwrap_content_key(&self, ciphertext: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
        let mut random = Zeroizing::new(vec![0u8; key_len]);
        // The random key is drawn before decryption, whatever its outcome, so both paths do the same work.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let _ = rng.fill(&mut random);
        let mut plain = Zeroizing::new(vec![0u8; self.decrypting.min_output_size().max(1)]);
        let decrypted = match self.decrypting.decrypt(ciphertext, &mut plain) {
            Ok(out) => out.len(),
            Err(_) => usize::MAX,
        };
        // Choose without branching on secret data where it is cheap to do so.
        let ok = decrypted == key_len;
        let mask = 0u8.wrapping_sub(u8::from(ok));
        let mut key = Zeroizing::new(vec![0u8; key_len]);
        for (i, byte) in key.iter_mut().enumerate() {
            let real = plain.get(i).copied().unwrap_or(0);
            *byte = (real & mask) | (random[i] & !mask);
        }
        key
    }

    /// Signs `message` with RSA PKCS#1 v1.5 over the given hash.
    pub fn sign(&self, hash: IdentityHash, message: &[u8]) -> Result<Vec<u8>, CaServiceError> {
        let padding: &'static dyn signature::RsaEncoding = match hash {
            IdentityHash::Sha256 => &signature::RSA_PKCS1_SHA256,
            IdentityHash::Sha512 => &signature::RSA_PKCS1_SHA512,
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut out = vec![0u8; self.signing.public_modulus_len()];
        self.signing
            .sign(padding, &rng, message, &mut out)
            .map_err(|_| CaServiceError::NoIssuer("the identity key could not sign".into()))?;
        Ok(out)
    }
}

impl CaService {
    /// The protocol identity `name` (a file name: letters, digits, `-`, `_`, `.`),
    /// with a certificate for `common_name` under `profile` from the CA `issuer`
    /// (`None`: the profile's or the default issuer); created on first use,
    /// its certificate issued again when due or when the issuer changed.
    pub fn protocol_identity(
        &self,
        name: &str,
        common_name: &str,
        issuer: Option<&str>,
        profile: &str,
    ) -> Result<ProtocolIdentity, CaServiceError> {
        if name.is_empty()
            || name.len() > 128
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            || name.starts_with('.')
        {
            return Err(CaServiceError::NoIssuer(format!(
                "'{name}' is not a valid identity name"
            )));
        }
        let directory = &self.identities;
        let _guard = directory.lock.lock().unwrap_or_else(|e| e.into_inner());
        let io = |what: &Path, e: std::io::Error| {
            CaServiceError::NoIssuer(format!("{}: {e}", what.display()))
        };
        std::fs::create_dir_all(&directory.dir).map_err(|e| io(&directory.dir, e))?;
        let key_path = directory.dir.join(format!("{name}.key.pem"));
        let cert_path = directory.dir.join(format!("{name}.crt.pem"));
        let key = if key_path.is_file() {
            let text =
                Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| io(&key_path, e))?);
            SigningKeyPair::from_pem(&text, SignatureHash::Sha256, Some(&directory.protection))
                .map_err(|e| CaServiceError::NoIssuer(format!("{}: {e}", key_path.display())))?
        } else {
            let key = SigningKeyPair::generate(KeyAlgorithm::Rsa2048, SignatureHash::Sha256)
                .map_err(|e| CaServiceError::NoIssuer(format!("identity key: {e}")))?;
            let pem = key
                .to_protected_pem(&directory.protection)
                .map_err(|e| CaServiceError::NoIssuer(format!("identity key: {e}")))?;
            write_private(&key_path, pem.as_bytes()).map_err(|e| io(&key_path, e))?;
            key
        };
        let profile_ref = self.profile(profile)?;
        let ca = match issuer {
            Some(id) => self
                .ca(id)
                .ok_or_else(|| CaServiceError::NoIssuer(format!("no CA '{id}'")))?,
            None => self.issuer_for(profile_ref)?,
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let current = std::fs::read(&cert_path)
            .ok()
            .and_then(|pem| stored_certificate(&pem, &key, ca.subject_der()))
            .filter(|c| now < c.renew_after);
        let (certificate_der, renew_after) = match current {
            Some(c) => (c.der, c.renew_after),
            None => {
                let mut params = rcgen::CertificateParams::default();
                params.distinguished_name = rcgen::DistinguishedName::new();
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, common_name);
                let csr_der = params
                    .serialize_request(key.key_pair())
                    .map_err(|e| CaServiceError::NoIssuer(format!("identity CSR: {e}")))?;
                let csr = crate::csr::VerifiedCsr::from_der(csr_der.der())
                    .map_err(IssuanceError::from)?;
                let request = IssuanceRequest {
                    csr: &csr,
                    profile: profile_ref,
                    names: None,
                    term_days: None,
                    owner_subject: Default::default(),
                };
                let record = self.issue_from(ca, &request, &format!("identity:{name}"))?;
                let pem = crate::encoding::pem("CERTIFICATE", &record.der);
                write_private(&cert_path, pem.as_bytes()).map_err(|e| io(&cert_path, e))?;
                tracing::info!(identity = name, serial = %record.serial.to_hex(), issuer = ca.id(), "protocol identity certificate issued");
                (record.der, renew_at(record.not_before, record.not_after))
            }
        };
        let pkcs8 = Zeroizing::new(key.key_pair().serialized_der().to_vec());
        let (decrypting, signing) = rsa_operations(&pkcs8)?;
        Ok(ProtocolIdentity {
            certificate_der,
            issuer_id: ca.id().to_string(),
            renew_after,
            decrypting,
            signing,
        })
    }
}

/// The two RSA operations of a PKCS#8 key.
fn rsa_operations(pkcs8: &[u8]) -> Result<(Pkcs1PrivateDecryptingKey, RsaKeyPair), CaServiceError> {
    let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8)
        .ok()
        .and_then(|k| Pkcs1PrivateDecryptingKey::new(k).ok())
        .ok_or_else(|| CaServiceError::NoIssuer("the identity key is not RSA".into()))?;
    let signing = RsaKeyPair::from_pkcs8(pkcs8)
        .map_err(|e| CaServiceError::NoIssuer(format!("identity key: {e}")))?;
    Ok((decrypting, signing))
}

/// Two thirds into the validity.
fn renew_at(not_before: i64, not_after: i64) -> i64 {
    not_before + (not_after - not_before) * 2 / 3
}

struct StoredCertificate {
    der: Vec<u8>,
    renew_after: i64,
}

/// The stored certificate, if it parses, certifies `key` and was issued by the
/// CA whose subject is `issuer_subject` (DER).
fn stored_certificate(
    pem: &[u8],
    key: &SigningKeyPair,
    issuer_subject: &[u8],
) -> Option<StoredCertificate> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).ok()?;
    let cert = block.parse_x509().ok()?;
    if cert.public_key().raw != key.public_key_spki_der().as_slice()
        || cert.issuer().as_raw() != issuer_subject
    {
        return None;
    }
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    Some(StoredCertificate {
        der: block.contents.clone(),
        renew_after: renew_at(not_before, not_after),
    })
}

/// Writes a file readable by the owner only, replacing it atomically.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A protocol identity with its certificate parsed, as the CMS builders want it.
pub struct LoadedIdentity {
    /// The key's operations and the certificate's DER.
    pub identity: ProtocolIdentity,
    /// The certificate, parsed.
    pub certificate: x509_cert::Certificate,
    /// The issuing CA's id.
    pub issuer_id: String,
}

/// What identity a protocol edge wants for one of its endpoints.
#[derive(Debug, Clone, Copy)]
pub struct IdentitySpec<'a> {
    /// The identity's file name (see [`CaService::protocol_identity`]).
    pub name: &'a str,
    /// Its certificate's common name.
    pub common_name: &'a str,
    /// The CA that issues it.
    pub issuer: &'a str,
    /// The profile it is issued under.
    pub profile: &'a str,
}

/// Protocol identities by a key of the edge's choosing (an endpoint id), loaded
/// once and loaded again when due for renewal or when the wanted issuer changed:
/// opening the key file costs a PBES2 derivation, which no request should pay.
pub struct IdentityCache<K> {
    cache: Mutex<std::collections::HashMap<K, std::sync::Arc<LoadedIdentity>>>,
}

impl<K> Default for IdentityCache<K> {
    fn default() -> Self {
        Self {
            cache: Mutex::new(std::collections::HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> IdentityCache<K> {
    /// The identity for `key`, created or renewed as needed.
    pub fn get(
        &self,
        ca: &CaService,
        key: &K,
        spec: IdentitySpec<'_>,
    ) -> Result<std::sync::Arc<LoadedIdentity>, CaServiceError> {
        use der::Decode;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            if !cached.identity.due(now) && cached.issuer_id == spec.issuer {
                return Ok(cached.clone());
            }
        }
        let identity =
            ca.protocol_identity(spec.name, spec.common_name, Some(spec.issuer), spec.profile)?;
        let certificate = x509_cert::Certificate::from_der(identity.certificate_der())
            .map_err(|e| CaServiceError::NoIssuer(format!("identity certificate: {e}")))?;
        let fresh = std::sync::Arc::new(LoadedIdentity {
            identity,
            certificate,
            issuer_id: spec.issuer.to_string(),
        });
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), fresh.clone());
        Ok(fresh)
    }
}
