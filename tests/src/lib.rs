//! Helpers shared by the workspace integration tests: running the gateway
//! binary, openssl and pkilint, and free loopback ports.
