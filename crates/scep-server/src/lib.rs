//! Certwright: the SCEP (RFC 8894) server for Intune- and MDM-managed devices.
//!
//! Not built yet: this crate is filled by a later issue (see `../shared/ARCHITECTURE.md`).
//! It exports nothing, so nothing can mistake it for a working implementation.
