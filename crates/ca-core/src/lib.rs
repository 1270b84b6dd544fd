//! Certwright's CA engine.
//!
//! `ca-core` knows keys, CA hierarchies, certificate profiles, issuance from a
//! PKCS#10 CSR, revocation (CRL and OCSP), every export encoding, and the
//! durable store. It knows nothing of HTTP, protocols or organizations: those
//! live in the crates above it.

pub mod authority;
pub mod certificates;
pub mod cms_seal;
pub mod csr;
pub mod encoding;
pub mod extensions;
pub mod identity;
pub mod issuance;
pub mod keys;
pub mod names;
pub mod ocsp;
pub mod ocsp_cache;
pub mod profile;
pub mod revocation;
pub mod serial;
pub mod service;
pub mod store;
