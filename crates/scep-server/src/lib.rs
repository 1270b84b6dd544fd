//! Certwright's SCEP server (RFC 8894) for Intune- and MDM-managed devices
//! and network gear.

#![warn(missing_docs)]

pub mod wire;
