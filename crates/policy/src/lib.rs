//! Certwright's registration authority: who may ask for which certificate,
//! who approves it, and a record of everything.
//!
//! Organizations and departments own certificates and domains; MRAO / RAO /
//! DRAO administrators act within their scope and privileges; enrollment
//! endpoints bind a protocol credential to an owner, a profile and an
//! approval mode; every request goes through one state machine; every action
//! lands in a hash-chained audit log. Nothing here knows HTTP or wire formats.

pub mod audit;
pub mod authz;
pub mod credentials;
pub mod login_guard;
pub mod model;
pub mod names;
pub mod registry;
pub mod request;
