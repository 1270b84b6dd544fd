//! What the gateway mounts where: the one list of protocol edges.

use std::sync::Arc;

use gateway_http::Mount;
use policy::registry::RegistrationAuthority;

use crate::config::GatewayConfig;

/// The protocol edges over the registration authority; `https_base` is the
/// HTTPS base URL the edges put into the links they hand out.
pub fn mounts(
    config: &GatewayConfig,
    ra: &Arc<RegistrationAuthority>,
    https_base: &str,
) -> Vec<Mount> {
    let mut mounts = vec![
        Mount {
            prefix: "/api/v1/",
            plain_http: false,
            name: "the REST API",
            https_path: "/api/v1/",
            service: Arc::new(rest_api::RestApi::with_document(
                ra.clone(),
                https_base.to_string(),
                &scm_document(config),
            )),
        },
        Mount {
            prefix: acme_server::PATH_PREFIX,
            plain_http: false,
            name: "ACME",
            https_path: "/acme/<endpoint>/directory",
            service: Arc::new(acme_server::AcmeServer::new(
                ra.clone(),
                config.acme.clone(),
                https_base.to_string(),
            )),
        },
        Mount {
            prefix: scep_server::PATH_PREFIX,
            // Devices and MDMs expect SCEP on plain HTTP; its messages are signed and encrypted.
            plain_http: true,
            name: "SCEP",
            https_path: "/scep/<endpoint>",
            service: Arc::new(scep_server::ScepServer::new(ra.clone())),
        },
        Mount {
            prefix: est_server::PATH_PREFIX,
            // EST authenticates over TLS (client certificates, Basic passwords, channel binding).
            plain_http: false,
            name: "EST",
            https_path: est_server::PATH_PREFIX,
            service: Arc::new(est_server::EstServer::new(ra.clone())),
        },
    ];
    mounts.push(Mount {
        prefix: console::PATH_PREFIX,
        plain_http: false,
        name: "the console",
        https_path: console::PATH_PREFIX,
        service: Arc::new(
            console::Console::new(ra.clone()).with_sso(console::SsoSettings {
                https_base: https_base.to_string(),
            }),
        ),
    });
    if config.scm_api.enabled {
        // Beside our own /api/v1/ (the longest prefix wins): every other /api/ path is the
        // certificate manager's, and /private/api/ its client-certificate variant.
        let scm = Arc::new(scm_api::ScmApi::new(
            ra.clone(),
            &config.scm_api.customer_uri,
            https_base,
        ));
        for (prefix, https_path) in [
            (scm_api::PATH_PREFIX, "/api/ssl/v1/"),
            (scm_api::PRIVATE_PATH_PREFIX, "/private/api/ssl/v1/"),
        ] {
            mounts.push(Mount {
                prefix,
                plain_http: false,
                name: "the certificate manager API",
                https_path,
                service: scm.clone(),
            });
        }
    }
    mounts
}

/// The certificate manager API's operations for the one OpenAPI document, when it is served.
fn scm_document(config: &GatewayConfig) -> rest_api::openapi::DocumentExtension {
    if !config.scm_api.enabled {
        return Default::default();
    }
    let (schemas, security_schemes) = scm_api::openapi::components();
    rest_api::openapi::DocumentExtension {
        paths: scm_api::openapi::paths(),
        schemas,
        security_schemes,
    }
}
