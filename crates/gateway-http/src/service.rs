//! The service trait an edge implements, and where the gateway mounts it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

use crate::peer::Listener;

/// Every edge answers with a whole body.
pub type HttpResponse = Response<Full<Bytes>>;

/// The future of one answer.
pub type ResponseFuture = Pin<Box<dyn Future<Output = HttpResponse> + Send>>;

/// A protocol edge: takes one HTTP request under its mount prefix and answers
/// it. It never fails and never panics on input: every refusal is an answer in
/// the protocol's own error form.
pub trait ProtocolService: Send + Sync {
    /// Answers one request. The request carries a [`crate::PeerIdentity`] in its extensions.
    fn call(&self, request: Request<Incoming>) -> ResponseFuture;
}

/// Where a service is mounted: a path prefix and the listeners it is served on.
#[derive(Clone)]
pub struct Mount {
    /// The path prefix, with its leading and trailing `/` (e.g. `/scep/`); the
    /// bare prefix without the trailing slash is routed here too.
    pub prefix: &'static str,
    /// Served over plain HTTP too (SCEP protects its own messages); else HTTPS only.
    pub plain_http: bool,
    /// The service's name for people ("the REST API", "EST").
    pub name: &'static str,
    /// The path a client should use over HTTPS (e.g. `/api/v1/`), named to a
    /// client that came over plain HTTP where the service is HTTPS-only.
    pub https_path: &'static str,
    /// The service.
    pub service: Arc<dyn ProtocolService>,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .field("plain_http", &self.plain_http)
            .finish_non_exhaustive()
    }
}

impl Mount {
    /// Whether a path falls under this mount.
    pub fn covers(&self, path: &str) -> bool {
        path.starts_with(self.prefix) || path == self.prefix.trim_end_matches('/')
    }

    /// What a client on the wrong listener is told: where to go instead, given
    /// the HTTPS listener's URL if it runs.
    pub fn elsewhere(&self, https_url: Option<&str>) -> String {
        match https_url {
            Some(url) => format!("{} is served over HTTPS at {url}{}", self.name, self.https_path),
            None => format!(
                "{} is served over HTTPS only, and this gateway's configuration disables HTTPS ([https] enabled = false)",
                self.name
            ),
        }
    }

    /// Whether the service answers on a listener.
    pub fn serves(&self, listener: Listener) -> bool {
        listener == Listener::Https || self.plain_http
    }
}

/// The mount covering a path: the one with the longest prefix.
pub fn find<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| m.covers(path))
        .max_by_key(|m| m.prefix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;
    impl ProtocolService for Nothing {
        fn call(&self, _: Request<Incoming>) -> ResponseFuture {
            Box::pin(async { Response::new(Full::new(Bytes::new())) })
        }
    }

    fn mount(prefix: &'static str, plain_http: bool) -> Mount {
        Mount {
            prefix,
            plain_http,
            name: "",
            https_path: "",
            service: Arc::new(Nothing),
        }
    }

    #[test]
    fn the_longest_prefix_wins_and_listeners_are_respected() {
        let mounts = [
            mount("/api/", false),
            mount("/api/scm/", false),
            mount("/scep/", true),
        ];
        assert_eq!(find(&mounts, "/api/v1/x").unwrap().prefix, "/api/");
        assert_eq!(find(&mounts, "/api").unwrap().prefix, "/api/");
        assert_eq!(find(&mounts, "/api/scm/x").unwrap().prefix, "/api/scm/");
        assert!(find(&mounts, "/apis").is_none());
        assert!(find(&mounts, "/ca/api.pem").is_none());
        let scep = find(&mounts, "/scep/default/pkiclient.exe").unwrap();
        assert!(scep.serves(Listener::Http) && scep.serves(Listener::Https));
        assert!(!mounts[0].serves(Listener::Http));
    }
}
