//! Certwright's ACME server (RFC 8555), with external account binding,
//! approval queues, ACME Renewal Information (RFC 9773) and real challenge
//! validation (http-01, dns-01, tls-alpn-01 per RFC 8737, IP identifiers per
//! RFC 8738).

pub mod validation;
