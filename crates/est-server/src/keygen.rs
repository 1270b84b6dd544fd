//! `/serverkeygen` (RFC 7030 §4.4): the key pair is made here on aws-lc-rs by
//! the endpoint's profile, a CSR signed by it carries the device's subject into
//! the RA, and the key goes back to the device over the TLS channel, or, where
//! the device asked for it with an AsymmetricDecryptionKeyIdentifier, sealed to
//! the certificate it authenticated the TLS session with and signed by the
//! endpoint's EST signing identity (§4.4.2). The key is not kept.

use ca_core::certificates::CertificateRecord;
use ca_core::cms_seal::{self, ContentCipher, RecipientNaming};
use ca_core::csr::VerifiedCsr;
use ca_core::identity::{IdentityHash, IdentitySpec};
use ca_core::keys::{SignatureHash, SigningKeyPair};
use ca_core::profile::SubjectAttribute;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use gateway_http::PeerIdentity;
use http::StatusCode;
use policy::model::Endpoint;
use x509_parser::prelude::*;
use zeroize::Zeroizing;

use crate::respond::{internal, refuse, text, Refused};
use crate::{wire, Shared};

/// id-aa-decryptKeyID (RFC 7030 §4.4.1.1): a symmetric key shared in advance.
const DECRYPT_KEY_ID: &str = "1.2.840.113549.1.9.16.2.37";
/// id-aa-asymmDecryptKeyID (RFC 7030 §4.4.1.2): the device's own key pair.
const ASYMMETRIC_DECRYPT_KEY_ID: &str = "1.2.840.113549.1.9.16.2.54";
/// id-ct-KP-aKeyPackage (RFC 5958 §3): the AsymmetricKeyPackage content type.
const ID_CT_KP_A_KEY_PACKAGE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.2.1.2.78.5");
/// rsaEncryption, the only key transport a device's certificate can take here.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// The profile of the EST signing certificates.
pub const SIGNER_PROFILE: &str = "est-signer";

/// A key pair made here for `/serverkeygen`, and how it is to reach the device.
pub(crate) struct GeneratedKey {
    pkcs8: Zeroizing<Vec<u8>>,
    delivery: Delivery,
}

/// How a generated key reaches the device.
enum Delivery {
    /// As PKCS#8, protected by the TLS channel only.
    OverTls,
    /// Sealed to the device's TLS client certificate, whose key it named.
    SealedTo {
        certificate: Box<x509_cert::Certificate>,
        key_id: Vec<u8>,
    },
}

/// The device's request for an encrypted key, as its CSR states it.
enum EncryptionRequest {
    None,
    Symmetric,
    Asymmetric(Vec<u8>),
}

/// Makes the key for a `/serverkeygen` request and the CSR that carries the
/// device's subject; refuses, before anything is issued, a request whose key
/// could not be delivered as the device asked.
pub(crate) fn generate(
    shared: &Shared,
    endpoint: &Endpoint,
    der: &[u8],
    csr: &VerifiedCsr,
    peer: Option<&PeerIdentity>,
) -> Result<(VerifiedCsr, GeneratedKey), Refused> {
    let delivery = match encryption_request(der) {
        EncryptionRequest::None => Delivery::OverTls,
        EncryptionRequest::Symmetric => {
            return Err(refuse(text(
                StatusCode::NOT_IMPLEMENTED,
                "a DecryptKeyIdentifier names a symmetric key shared with the server in advance, and this server holds none: ask for the key with an AsymmetricDecryptionKeyIdentifier, or over TLS alone",
            )))
        }
        EncryptionRequest::Asymmetric(key_id) => {
            if shared.ra.ca().profile(SIGNER_PROFILE).is_err() {
                // A data directory whose profiles.toml predates the profile.
                return Err(refuse(text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "encrypted server-generated keys are signed under the `est-signer` profile, which this server's profiles.toml lacks",
                )));
            }
            let certificate = sealing_certificate(peer, &key_id)?;
            Delivery::SealedTo {
                certificate: Box::new(certificate),
                key_id,
            }
        }
    };
    let profile = shared.ra.ca().profile(&endpoint.profile).map_err(|_| {
        refuse(text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the endpoint's profile is not loaded",
        ))
    })?;
    let algorithm = *profile
        .key_types
        .first()
        .ok_or_else(|| refuse(internal("the profile allows no key type")))?;
    let key = SigningKeyPair::generate(algorithm, SignatureHash::Sha256)
        .map_err(|e| refuse(internal(e)))?;
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    for (attribute, dn_type) in [
        (SubjectAttribute::CommonName, rcgen::DnType::CommonName),
        (
            SubjectAttribute::OrganizationalUnit,
            rcgen::DnType::OrganizationalUnitName,
        ),
        (
            SubjectAttribute::Organization,
            rcgen::DnType::OrganizationName,
        ),
        (SubjectAttribute::Locality, rcgen::DnType::LocalityName),
        (SubjectAttribute::State, rcgen::DnType::StateOrProvinceName),
        (SubjectAttribute::Country, rcgen::DnType::CountryName),
    ] {
        if let Some(value) = csr.subject_attribute(attribute) {
            name.push(dn_type, value);
        }
    }
    params.distinguished_name = name;
    let request = params
        .serialize_request(key.key_pair())
        .map_err(|e| refuse(internal(e)))?;
    let generated_csr = VerifiedCsr::from_der(request.der()).map_err(|e| refuse(internal(e)))?;
    let pkcs8 = Zeroizing::new(key.key_pair().serialize_der());
    Ok((generated_csr, GeneratedKey { pkcs8, delivery }))
}

/// Whether, and how, the CSR asks for its key encrypted (§4.4.1.1, §4.4.1.2).
/// The attribute's value is one OCTET STRING; one that does not decode names no
/// key, which the certificate check then says.
fn encryption_request(der: &[u8]) -> EncryptionRequest {
    let Ok(csr) = x509_cert::request::CertReq::from_der(der) else {
        return EncryptionRequest::None;
    };
    let mut found = EncryptionRequest::None;
    for attribute in csr.info.attributes.iter() {
        match attribute.oid.to_string().as_str() {
            ASYMMETRIC_DECRYPT_KEY_ID => {
                let id = attribute
                    .values
                    .iter()
                    .next()
                    .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok())
                    .map(|o| o.as_bytes().to_vec())
                    .unwrap_or_default();
                return EncryptionRequest::Asymmetric(id);
            }
            DECRYPT_KEY_ID => found = EncryptionRequest::Symmetric,
            _ => {}
        }
    }
    found
}

/// The certificate the key is sealed to: the TLS client certificate, which the
/// handshake proved the device holds the key of, and whose subject key
/// identifier is the one the CSR named (RFC 5280 §4.2.1.2: the extension, or
/// failing it the SHA-1 of the public key).
fn sealing_certificate(
    peer: Option<&PeerIdentity>,
    key_id: &[u8],
) -> Result<x509_cert::Certificate, Refused> {
    let Some(leaf) = peer.and_then(|p| p.client_certificate()) else {
        return Err(refuse(text(
            StatusCode::BAD_REQUEST,
            "the CSR asks for the key encrypted to an AsymmetricDecryptionKeyIdentifier: authenticate the TLS session with the certificate of that key",
        )));
    };
    let (_, parsed) = X509Certificate::from_der(leaf.as_ref()).map_err(|_| {
        refuse(text(
            StatusCode::BAD_REQUEST,
            "the TLS client certificate does not parse",
        ))
    })?;
    let spki = parsed.public_key();
    let own_id = parsed
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        });
    let hashed_id = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &spki.subject_public_key.data,
    );
    if key_id.is_empty() || (own_id.as_deref() != Some(key_id) && hashed_id.as_ref() != key_id) {
        return Err(refuse(text(
            StatusCode::BAD_REQUEST,
            "the AsymmetricDecryptionKeyIdentifier is not the key identifier of the TLS client certificate: the key can be encrypted only to the certificate the session was authenticated with",
        )));
    }
    if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION {
        return Err(refuse(text(
            StatusCode::NOT_IMPLEMENTED,
            "the key can be encrypted only to an RSA certificate (CMS key transport); the TLS client certificate's key is not RSA",
        )));
    }
    x509_cert::Certificate::from_der(leaf.as_ref()).map_err(|_| {
        refuse(text(
            StatusCode::BAD_REQUEST,
            "the TLS client certificate does not parse",
        ))
    })
}

impl GeneratedKey {
    /// The key part of the answer: its media type and DER.
    pub(crate) fn deliverable(
        &self,
        shared: &Shared,
        issued: &CertificateRecord,
    ) -> Result<(&'static str, Zeroizing<Vec<u8>>), Refused> {
        match &self.delivery {
            Delivery::OverTls => Ok((wire::PKCS8, self.pkcs8.clone())),
            Delivery::SealedTo {
                certificate,
                key_id,
            } => {
                let signed = self
                    .sealed(shared, issued, certificate, key_id)
                    .map_err(|e| refuse(internal(e)))?;
                Ok((wire::ENVELOPED_KEY, Zeroizing::new(signed)))
            }
        }
    }

    /// SignedData(EnvelopedData(AsymmetricKeyPackage)), §4.4.2: the package is the
    /// one OneAsymmetricKey (a PKCS#8 v1 PrivateKeyInfo is one), AES-256-CBC under a
    /// key wrapped for the device's RSA key, signed by the endpoint's EST signer,
    /// a certificate from the CA that issued the device's new certificate.
    fn sealed(
        &self,
        shared: &Shared,
        issued: &CertificateRecord,
        recipient: &x509_cert::Certificate,
        key_id: &[u8],
    ) -> Result<Vec<u8>, String> {
        let header = der::Header::new(der::Tag::Sequence, self.pkcs8.len())
            .and_then(|h| h.to_der())
            .map_err(|e| e.to_string())?;
        let mut package = Zeroizing::new(Vec::with_capacity(header.len() + self.pkcs8.len()));
        package.extend_from_slice(&header);
        package.extend_from_slice(&self.pkcs8);
        let enveloped = cms_seal::seal(
            &package,
            ID_CT_KP_A_KEY_PACKAGE,
            recipient,
            RecipientNaming::SubjectKeyIdentifier(key_id.to_vec()),
            ContentCipher::Aes256,
        )
        .map_err(|e| e.to_string())?;
        let ca = shared.ra.ca();
        let signer = shared
            .signers
            .get(
                ca,
                &issued.issuer_id,
                IdentitySpec {
                    name: &format!("est-signer-{}", issued.issuer_id),
                    common_name: "Certwright EST server",
                    issuer: &issued.issuer_id,
                    profile: SIGNER_PROFILE,
                },
            )
            .map_err(|e| e.to_string())?;
        let signed = cms_seal::sign(
            cms_seal::ID_ENVELOPED_DATA,
            Some(&enveloped.to_der().map_err(|e| e.to_string())?),
            Vec::new(),
            IdentityHash::Sha256,
            &signer.identity,
            &signer.certificate,
        )
        .map_err(|e| e.to_string())?;
        cms_seal::content_info(cms_seal::ID_SIGNED_DATA, &signed).map_err(|e| e.to_string())
    }
}
