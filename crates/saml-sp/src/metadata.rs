//! SAML metadata: reading an identity provider's federation metadata (its entity id,
//! its HTTP-Redirect single sign-on URL and its signing certificates), and writing
//! this service provider's own.

use samael::metadata::{
    EntitiesDescriptor, EntityDescriptor, EntityDescriptorType, IdpSsoDescriptor, IndexedEndpoint,
    KeyDescriptor, SpSsoDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING,
};
use samael::traits::ToXml;

use crate::error::MetadataError;
use crate::{refuses_dtd, IdentityProvider, ServiceProvider};

/// The SAML 2.0 protocol, as `protocolSupportEnumeration` names it.
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// Reads an identity provider's federation metadata: an `EntityDescriptor` with an
/// `IDPSSODescriptor` (Entra ID's `federationmetadata.xml`, pysaml2's, Shibboleth's),
/// or an `EntitiesDescriptor` whose first such entity is taken.
///
/// The metadata's own signature, if any, is not checked: it has no trust anchor here,
/// and the administrator imports a file they fetched from their identity provider.
pub fn parse_idp_metadata(xml: &str) -> Result<IdentityProvider, MetadataError> {
    if refuses_dtd(xml) {
        return Err(MetadataError::Parse("a DOCTYPE is not accepted".into()));
    }
    let entity = match xml.parse::<EntityDescriptor>() {
        Ok(entity) if entity.idp_sso_descriptors.is_some() => entity,
        first => {
            // The parser's own messages speak of Rust types; say what was expected.
            let entities = xml
                .parse::<EntitiesDescriptor>()
                .map_err(|_| match &first {
                    Ok(_) => MetadataError::NoIdentityProvider,
                    Err(_) => MetadataError::Parse(
                        "expected an EntityDescriptor or EntitiesDescriptor of SAML 2.0 metadata"
                            .into(),
                    ),
                })?;
            first_identity_provider(entities).ok_or(MetadataError::NoIdentityProvider)?
        }
    };
    let entity_id = entity
        .entity_id
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or(MetadataError::NoEntityId)?;
    let descriptors: Vec<&IdpSsoDescriptor> = entity
        .idp_sso_descriptors
        .iter()
        .flatten()
        .filter(|d| {
            d.protocol_support_enumeration
                .as_deref()
                .is_none_or(|p| p.split_whitespace().any(|p| p == SAML2_PROTOCOL))
        })
        .collect();
    if descriptors.is_empty() {
        return Err(MetadataError::NoIdentityProvider);
    }
    let sso_url = descriptors
        .iter()
        .flat_map(|d| &d.single_sign_on_services)
        .find(|s| s.binding == HTTP_REDIRECT_BINDING)
        .map(|s| s.location.trim().to_string())
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .ok_or(MetadataError::NoRedirectBinding)?;
    let keys: Vec<&KeyDescriptor> = descriptors
        .iter()
        .flat_map(|d| &d.key_descriptors)
        .collect();
    // Keys for signing, or for any use when the metadata says none.
    let signing: Vec<&KeyDescriptor> = keys
        .iter()
        .copied()
        .filter(|k| {
            k.key_use
                .as_deref()
                .is_none_or(|u| u.is_empty() || u == "signing")
        })
        .collect();
    let mut certificates: Vec<Vec<u8>> = Vec::new();
    for key in signing {
        for text in key.key_info.x509_data.iter().flat_map(|d| &d.certificates) {
            let der = samael::crypto::decode_x509_cert(text)
                .map_err(|_| MetadataError::BadCertificate)?
                .der_data()
                .to_vec();
            if x509_parser::parse_x509_certificate(&der).is_err() {
                return Err(MetadataError::BadCertificate);
            }
            if !certificates.contains(&der) {
                certificates.push(der);
            }
        }
    }
    if certificates.is_empty() {
        return Err(MetadataError::NoSigningCertificate);
    }
    Ok(IdentityProvider {
        entity_id,
        sso_url,
        signing_certificates: certificates,
    })
}

fn first_identity_provider(entities: EntitiesDescriptor) -> Option<EntityDescriptor> {
    for descriptor in entities.descriptors {
        let found = match descriptor {
            EntityDescriptorType::EntityDescriptor(entity) => {
                entity.idp_sso_descriptors.is_some().then_some(entity)
            }
            EntityDescriptorType::EntitiesDescriptor(nested) => first_identity_provider(nested),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// This service provider's metadata: its entity id, one AssertionConsumerService
/// (HTTP-POST binding), unsigned AuthnRequests, signed assertions wanted.
pub fn sp_metadata_xml(sp: &ServiceProvider) -> String {
    let descriptor = EntityDescriptor {
        entity_id: Some(sp.entity_id().to_string()),
        sp_sso_descriptors: Some(vec![SpSsoDescriptor {
            protocol_support_enumeration: Some(SAML2_PROTOCOL.to_string()),
            authn_requests_signed: Some(false),
            want_assertions_signed: Some(true),
            name_id_formats: Some(vec![
                "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_string(),
            ]),
            assertion_consumer_services: vec![IndexedEndpoint {
                binding: HTTP_POST_BINDING.to_string(),
                location: sp.acs_url().to_string(),
                response_location: None,
                index: 0,
                is_default: Some(true),
            }],
            ..SpSsoDescriptor::default()
        }]),
        ..EntityDescriptor::default()
    };
    // samael writes the XML declaration itself.
    let xml = descriptor
        .to_string()
        .expect("metadata built from plain strings serializes");
    format!("{xml}\n")
}
