//! Each SCEP endpoint's RA identity: an RSA key and a `scep-ra` certificate
//! from the CA that issues the endpoint's certificates (ca-core keeps the key
//! protected at rest, renews the certificate and caches the loaded identity).

use std::sync::Arc;

use ca_core::identity::{IdentityCache, IdentitySpec};
use ca_core::service::{CaService, CaServiceError};
use policy::model::{Endpoint, EndpointId};

/// The profile RA certificates are issued under.
pub const RA_PROFILE: &str = "scep-ra";

/// An endpoint's RA identity with its certificate parsed.
pub type RaIdentity = ca_core::identity::LoadedIdentity;

/// The cache of RA identities, by endpoint.
#[derive(Default)]
pub struct RaIdentities {
    cache: IdentityCache<EndpointId>,
}

impl RaIdentities {
    /// The endpoint's RA identity, created or renewed as needed.
    pub fn get(
        &self,
        ca: &CaService,
        endpoint: &Endpoint,
    ) -> Result<Arc<RaIdentity>, CaServiceError> {
        let issuer = ca
            .issuer_for(ca.profile(&endpoint.profile)?)?
            .id()
            .to_string();
        self.cache.get(
            ca,
            &endpoint.id,
            IdentitySpec {
                name: &format!("scep-ra-{}", endpoint.id.0),
                common_name: &format!("{} SCEP RA", endpoint.name),
                issuer: &issuer,
                profile: RA_PROFILE,
            },
        )
    }
}
