//! ACME's wire formats, apart from the handlers (as rustls keeps `msgs/`
//! apart from its state machines): JWS and JWK, problem documents, and the
//! JSON objects. Everything here turns bytes into validated types or back;
//! nothing here touches the store or the RA.

pub mod jwk;
pub mod jws;
pub mod objects;
pub mod problem;
