//! Certwright: the registration authority: organizations, departments, domains, administrators, enrollment endpoints, the request state machine, name policy and the audit log.
//!
//! Not built yet: this crate is filled by issue 3 (see `../shared/ARCHITECTURE.md`).
//! It exports nothing, so nothing can mistake it for a working implementation.
