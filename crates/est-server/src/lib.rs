//! Certwright: the EST (RFC 7030) server for IoT devices.
//!
//! Not built yet: this crate is filled by a later issue (see `../shared/ARCHITECTURE.md`).
//! It exports nothing, so nothing can mistake it for a working implementation.
