//! Certwright: the ACME (RFC 8555) server.
//!
//! Not built yet: this crate is filled by issue 4 (see `../shared/ARCHITECTURE.md`).
//! It exports nothing, so nothing can mistake it for a working implementation.
