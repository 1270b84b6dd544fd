//! The one seam between the protocol edges (REST API, ACME, SCEP, EST, the
//! SCM-compatible API) and the gateway that runs them.
//!
//! Every edge needs the same few things from HTTP and from the RA, and none
//! of them should write those again:
//!
//! - [`body`]: a request body read with a size limit;
//! - [`peer`]: who is on the other end: the client's address, the listener
//!   the request came in on, and over TLS the client's certificate chain and
//!   the session's channel binding, put into the request by `ca-admin serve`;
//! - [`refusal`]: the RA's typed errors classified once, so that each edge only
//!   maps a [`refusal::RefusalKind`] to its own error form (a problem document,
//!   a SCEP failInfo, an EST status);
//! - [`actor`]: how a protocol client is named in the RA's audit log;
//! - [`throttle`]: the failed-authentication limit per client address;
//! - [`service`]: the trait an edge implements and the [`service::Mount`] that
//!   says where `ca-admin serve` mounts it.
//!
//! This crate sits below the edges and above `policy`; it decides nothing
//! that `policy` decides.

#![warn(missing_docs)]

pub mod actor;
pub mod body;
pub mod csv;
pub mod peer;
pub mod refusal;
pub mod service;
pub mod throttle;

pub use actor::ProtocolActor;
pub use body::{read_limited, BodyError};
pub use peer::{Listener, PeerIdentity};
pub use refusal::{Refusal, RefusalKind};
pub use service::{HttpResponse, Mount, ProtocolService, ResponseFuture};
pub use throttle::Throttle;
