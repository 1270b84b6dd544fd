//! Certwright: the operators' JSON REST API.
//!
//! Not built yet: this crate is filled by issue 3 (see `../shared/ARCHITECTURE.md`).
//! It exports nothing, so nothing can mistake it for a working implementation.
