//! Each SCEP endpoint's RA identity: an RSA key and a `scep-ra` certificate
//! from the CA that issues the endpoint's certificates (ca-core keeps the key
//! protected at rest and renews the certificate). Cached here, and fetched
//! again once the cached certificate is due for renewal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ca_core::identity::ProtocolIdentity;
use ca_core::service::{CaService, CaServiceError};
use der::Decode;
use policy::model::{Endpoint, EndpointId};

/// The profile RA certificates are issued under.
pub const RA_PROFILE: &str = "scep-ra";

/// An endpoint's RA identity with its certificate parsed.
pub struct RaIdentity {
    /// The key's operations and the certificate.
    pub identity: ProtocolIdentity,
    /// The certificate, parsed.
    pub certificate: x509_cert::Certificate,
    /// The issuing CA's id (the CA that signs the endpoint's certificates).
    pub issuer_id: String,
}

/// The cache of RA identities, by endpoint.
#[derive(Default)]
pub struct RaIdentities {
    cache: Mutex<HashMap<EndpointId, Arc<RaIdentity>>>,
}

impl RaIdentities {
    /// The endpoint's RA identity, created or renewed as needed.
    pub fn get(
        &self,
        ca: &CaService,
        endpoint: &Endpoint,
    ) -> Result<Arc<RaIdentity>, CaServiceError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&endpoint.id)
        {
            if !cached.identity.due(now) {
                return Ok(cached.clone());
            }
        }
        let issuer = ca
            .issuer_for(ca.profile(&endpoint.profile)?)?
            .id()
            .to_string();
        let identity = ca.protocol_identity(
            &format!("scep-ra-{}", endpoint.id.0),
            &format!("{} SCEP RA", endpoint.name),
            Some(&issuer),
            RA_PROFILE,
        )?;
        let certificate = x509_cert::Certificate::from_der(identity.certificate_der())
            .map_err(|e| CaServiceError::NoIssuer(format!("RA certificate: {e}")))?;
        let fresh = Arc::new(RaIdentity {
            identity,
            certificate,
            issuer_id: issuer,
        });
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(endpoint.id, fresh.clone());
        Ok(fresh)
    }
}
