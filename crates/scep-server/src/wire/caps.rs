//! GetCACaps (RFC 8894 §3.5.2).

/// The capabilities every SCEP endpoint announces, one per line.
///
/// Clients match them exactly and case-sensitively; Apple's ignores
/// `SCEPStandard`, so what it implies is listed too. `DES3` stays for clients
/// that know nothing newer; SHA-1 is accepted but not announced.
pub const CAPABILITIES: &[&str] = &[
    "POSTPKIOperation",
    "Renewal",
    "SHA-256",
    "SHA-512",
    "AES",
    "DES3",
    "SCEPStandard",
];

/// The GetCACaps body.
pub fn body() -> String {
    let mut text = CAPABILITIES.join("\n");
    text.push('\n');
    text
}
