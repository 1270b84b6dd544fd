//! Problem documents (RFC 7807 with the ACME error types of RFC 8555 §6.7,
//! RFC 8737 and RFC 9773).

use std::time::Duration;

use http::header::HeaderName;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::objects::IdentifierObject;

/// The ACME error types this server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProblemType {
    /// The request message was malformed.
    Malformed,
    /// The nonce was unacceptable.
    BadNonce,
    /// The JWS algorithm is not supported.
    BadSignatureAlgorithm,
    /// The JWS key is not acceptable.
    BadPublicKey,
    /// The client lacks sufficient authorization.
    Unauthorized,
    /// The account named does not exist.
    AccountDoesNotExist,
    /// The server requires external account binding.
    ExternalAccountRequired,
    /// The server will not issue for the identifier.
    RejectedIdentifier,
    /// The identifier type is not supported.
    UnsupportedIdentifier,
    /// The CSR is unacceptable.
    BadCsr,
    /// The order is not ready to be finalized.
    OrderNotReady,
    /// Too many requests.
    RateLimited,
    /// The certificate is already revoked.
    AlreadyRevoked,
    /// The revocation reason is not allowed.
    BadRevocationReason,
    /// A contact URL is invalid.
    InvalidContact,
    /// A contact URL has an unsupported scheme.
    UnsupportedContact,
    /// The client must visit the instance URL (e.g. to agree to new terms).
    UserActionRequired,
    /// The certificate named in `replaces` was already replaced (RFC 9773).
    AlreadyReplaced,
    /// Validation: could not connect.
    Connection,
    /// Validation: DNS look-up failed.
    Dns,
    /// Validation: the TLS handshake or certificate was wrong.
    Tls,
    /// Validation: the response did not prove control.
    IncorrectResponse,
    /// The server failed.
    ServerInternal,
}

impl ProblemType {
    /// The name after `urn:ietf:params:acme:error:`.
    pub fn name(self) -> &'static str {
        match self {
            ProblemType::Malformed => "malformed",
            ProblemType::BadNonce => "badNonce",
            ProblemType::BadSignatureAlgorithm => "badSignatureAlgorithm",
            ProblemType::BadPublicKey => "badPublicKey",
            ProblemType::Unauthorized => "unauthorized",
            ProblemType::AccountDoesNotExist => "accountDoesNotExist",
            ProblemType::ExternalAccountRequired => "externalAccountRequired",
            ProblemType::RejectedIdentifier => "rejectedIdentifier",
            ProblemType::UnsupportedIdentifier => "unsupportedIdentifier",
            ProblemType::BadCsr => "badCSR",
            ProblemType::OrderNotReady => "orderNotReady",
            ProblemType::RateLimited => "rateLimited",
            ProblemType::AlreadyRevoked => "alreadyRevoked",
            ProblemType::BadRevocationReason => "badRevocationReason",
            ProblemType::InvalidContact => "invalidContact",
            ProblemType::UnsupportedContact => "unsupportedContact",
            ProblemType::UserActionRequired => "userActionRequired",
            ProblemType::AlreadyReplaced => "alreadyReplaced",
            ProblemType::Connection => "connection",
            ProblemType::Dns => "dns",
            ProblemType::Tls => "tls",
            ProblemType::IncorrectResponse => "incorrectResponse",
            ProblemType::ServerInternal => "serverInternal",
        }
    }

    /// The type for a name after the URN prefix (validation errors name theirs).
    pub fn from_name(name: &str) -> Option<Self> {
        use ProblemType::*;
        [
            Malformed,
            BadNonce,
            BadSignatureAlgorithm,
            BadPublicKey,
            Unauthorized,
            AccountDoesNotExist,
            ExternalAccountRequired,
            RejectedIdentifier,
            UnsupportedIdentifier,
            BadCsr,
            OrderNotReady,
            RateLimited,
            AlreadyRevoked,
            BadRevocationReason,
            InvalidContact,
            UnsupportedContact,
            UserActionRequired,
            AlreadyReplaced,
            Connection,
            Dns,
            Tls,
            IncorrectResponse,
            ServerInternal,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    /// The full URN.
    pub fn urn(self) -> String {
        format!("urn:ietf:params:acme:error:{}", self.name())
    }

    /// The HTTP status a problem of this type is sent with.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemType::Unauthorized
            | ProblemType::OrderNotReady
            | ProblemType::ExternalAccountRequired
            | ProblemType::UserActionRequired => StatusCode::FORBIDDEN,
            ProblemType::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemType::AlreadyReplaced => StatusCode::CONFLICT,
            ProblemType::ServerInternal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A problem about one identifier of a request (RFC 8555 §6.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subproblem {
    /// The type.
    pub kind: ProblemType,
    /// What is wrong.
    pub detail: String,
    /// The identifier.
    pub identifier: IdentifierObject,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The type.
    pub kind: ProblemType,
    /// What is wrong, for a person.
    pub detail: String,
    /// The status (the type's, unless a route says otherwise: 404, 405, 413, 415).
    pub status: StatusCode,
    /// Per-identifier problems.
    pub subproblems: Vec<Subproblem>,
    /// `badSignatureAlgorithm`: the algorithms accepted.
    pub algorithms: Option<&'static [&'static str]>,
    /// `rateLimited` and friends: when to come back.
    pub retry_after: Option<Duration>,
    /// Headers the answer carries besides the usual ones: `Location` of an existing
    /// account on a key-change conflict, `Link` to the terms for `userActionRequired`.
    pub headers: Vec<(HeaderName, String)>,
}

impl Problem {
    /// A problem of `kind` with its usual status.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            status: kind.status(),
            subproblems: Vec::new(),
            algorithms: None,
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// With another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// With a header.
    pub fn with_header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// With subproblems.
    pub fn with_subproblems(mut self, subproblems: Vec<Subproblem>) -> Self {
        self.subproblems = subproblems;
        self
    }

    /// `malformed`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Malformed, detail)
    }

    /// `unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemType::Unauthorized, detail)
    }

    /// `serverInternal`; the cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "ACME request failed");
        Self::new(
            ProblemType::ServerInternal,
            "the server could not complete the request",
        )
    }

    /// `malformed` 404: no such resource.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::malformed(format!("{} does not exist", what.into()))
            .with_status(StatusCode::NOT_FOUND)
    }

    /// `rateLimited` with its Retry-After.
    pub fn rate_limited(detail: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(ProblemType::RateLimited, detail)
        }
    }

    /// The document.
    pub fn document(&self) -> ProblemDocument {
        ProblemDocument {
            kind: self.kind.urn(),
            detail: self.detail.clone(),
            status: Some(self.status.as_u16()),
            subproblems: self
                .subproblems
                .iter()
                .map(|s| SubproblemDocument {
                    kind: s.kind.urn(),
                    detail: s.detail.clone(),
                    identifier: s.identifier.clone(),
                })
                .collect(),
            algorithms: self
                .algorithms
                .map(|a| a.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// A problem document as serialized (also stored inside orders and challenges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDocument {
    /// The type URN.
    #[serde(rename = "type")]
    pub kind: String,
    /// The detail.
    pub detail: String,
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Per-identifier problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subproblems: Vec<SubproblemDocument>,
    /// Accepted algorithms (`badSignatureAlgorithm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
}

/// A subproblem as serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubproblemDocument {
    /// The type URN.
    #[serde(rename = "type")]
    pub kind: String,
    /// The detail.
    pub detail: String,
    /// The identifier.
    pub identifier: IdentifierObject,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_carry_the_urn_status_and_subproblems() {
        let problem = Problem::new(ProblemType::RejectedIdentifier, "no").with_subproblems(vec![
            Subproblem {
                kind: ProblemType::RejectedIdentifier,
                detail: "not delegated".into(),
                identifier: IdentifierObject::dns("evil.example"),
            },
        ]);
        let json = serde_json::to_value(problem.document()).unwrap();
        assert_eq!(
            json["type"],
            "urn:ietf:params:acme:error:rejectedIdentifier"
        );
        assert_eq!(json["status"], 400);
        assert_eq!(
            json["subproblems"][0]["identifier"]["value"],
            "evil.example"
        );
        assert_eq!(ProblemType::from_name("badCSR"), Some(ProblemType::BadCsr));
        assert_eq!(ProblemType::OrderNotReady.status(), StatusCode::FORBIDDEN);
    }
}
