//! The RA's errors, classified once for every protocol edge.
//!
//! The RA answers with [`RaError`]; each edge has its own error form. Rather
//! than every edge matching on the RA's variants (and each deciding again
//! which of them are the client's fault and which messages are safe to show),
//! an edge asks for the [`Refusal`] and maps its [`RefusalKind`].

use policy::registry::RaError;

/// What kind of refusal, in the terms every protocol has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The requester's credentials are missing or wrong.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// The object does not exist (or is not visible to the requester).
    NotFound,
    /// The request cannot be granted as asked: bad input, a CSR or a name the
    /// profile or the name policy refuses.
    BadRequest,
    /// The request conflicts with the object's state (taken name, already
    /// revoked, a transition the state machine refuses).
    Conflict,
    /// The gateway's own fault (store, CA): the client may try again later.
    Internal,
}

/// A refusal: its kind and a message that is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The kind.
    pub kind: RefusalKind,
    /// For the client. For [`RefusalKind::Internal`] this says nothing about
    /// the cause (paths, store details), which is logged instead.
    pub message: String,
}

impl Refusal {
    /// Classifies an RA error. An internal error is logged here, once, with its cause.
    pub fn of(error: &RaError) -> Self {
        let kind = match error.code() {
            "unauthenticated" | "too_many_failures" => RefusalKind::Unauthenticated,
            "forbidden" => RefusalKind::Forbidden,
            "not_found" => RefusalKind::NotFound,
            "invalid_input" => RefusalKind::BadRequest,
            "conflict" | "illegal_transition" => RefusalKind::Conflict,
            // ca_error, internal and any code added later: the server's fault, not the client's.
            _ => RefusalKind::Internal,
        };
        let message = if kind == RefusalKind::Internal {
            tracing::error!(error = %error, "the registration authority failed");
            "the server could not complete the request; try again later".to_string()
        } else {
            error.to_string()
        };
        Self { kind, message }
    }
}

impl From<&RaError> for Refusal {
    fn from(error: &RaError) -> Self {
        Refusal::of(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_errors_are_classified_and_internals_hidden() {
        let r = Refusal::of(&RaError::NotFound("request 9".into()));
        assert_eq!(r.kind, RefusalKind::NotFound);
        assert!(r.message.contains("request 9"));
        assert_eq!(
            Refusal::of(&RaError::InvalidInput("name x".into())).kind,
            RefusalKind::BadRequest
        );
        assert_eq!(
            Refusal::of(&RaError::Conflict("x".into())).kind,
            RefusalKind::Conflict
        );
        assert_eq!(
            Refusal::of(&RaError::Unauthenticated("x".into())).kind,
            RefusalKind::Unauthenticated
        );
        let r = Refusal::of(&RaError::Store(ca_core::store::StoreError::Engine(
            "/secret/path/store.redb".into(),
        )));
        assert_eq!(r.kind, RefusalKind::Internal);
        assert!(!r.message.contains("/secret"));
    }
}
