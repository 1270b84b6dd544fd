//! Mounts the REST API and the ACME server on the HTTPS listener.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use policy::registry::RegistrationAuthority;
use rest_api::RestApi;

/// The REST API as an [`super::ApiService`].
pub struct RestApiService {
    api: Arc<RestApi>,
}

impl RestApiService {
    /// Builds the API over the registration authority.
    pub fn new(ra: Arc<RegistrationAuthority>, base_url: String) -> Self {
        Self {
            api: Arc::new(RestApi::new(ra, base_url)),
        }
    }
}

impl super::ApiService for RestApiService {
    fn call(
        &self,
        request: Request<Incoming>,
    ) -> Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>> {
        let api = self.api.clone();
        Box::pin(async move { api.handle(request).await })
    }
}

/// The ACME server as an [`super::ApiService`].
pub struct AcmeService {
    acme: Arc<acme_server::AcmeServer>,
}

impl AcmeService {
    /// Builds the ACME server over the registration authority.
    pub fn new(
        ra: Arc<RegistrationAuthority>,
        config: acme_server::config::AcmeConfig,
        base_url: String,
    ) -> Self {
        Self {
            acme: Arc::new(acme_server::AcmeServer::new(ra, config, base_url)),
        }
    }
}

impl super::ApiService for AcmeService {
    fn call(
        &self,
        request: Request<Incoming>,
    ) -> Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>> {
        let acme = self.acme.clone();
        Box::pin(async move { acme.handle(request).await })
    }
}
