//! The Intune clients of the endpoints: one per endpoint, kept while its
//! application is unchanged, so that tokens and service URLs are cached across
//! requests; a changed application (a new secret) gets a new client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use policy::model::{Endpoint, EndpointId, EndpointKind, IntuneApplication};
use policy::registry::IntuneAccess;

use super::client::IntuneClient;

/// The clients, by endpoint.
pub struct IntuneClients {
    timeout: Duration,
    clients: Mutex<HashMap<EndpointId, (IntuneApplication, Arc<IntuneClient>)>>,
}

impl IntuneClients {
    /// No clients yet; each call to Microsoft gets `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client of an Intune endpoint whose application the RA opened as `access`.
    pub fn client(&self, endpoint: &Endpoint, access: &IntuneAccess) -> Arc<IntuneClient> {
        let EndpointKind::Intune { application } = &endpoint.kind else {
            // Not an Intune endpoint: a client that is not cached.
            return Arc::new(IntuneClient::for_access(access, self.timeout));
        };
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, client)) = clients.get(&endpoint.id) {
            if known == application {
                return client.clone();
            }
        }
        let client = Arc::new(IntuneClient::for_access(access, self.timeout));
        clients.insert(endpoint.id, (application.clone(), client.clone()));
        client
    }
}
