//! Read-only views of the CAs and the certificate profiles, as configured.

use maud::{html, Markup};
use policy::model::{Administrator, CertificateClass};
use policy::registry::RegistrationAuthority;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::day;

/// The CAs: their place in the hierarchy, keys, state and validity.
pub fn authorities(ra: &RegistrationAuthority) -> Markup {
    let mut cas: Vec<_> = ra.ca().cas().collect();
    cas.sort_by(|a, b| a.id().cmp(b.id()));
    html! {
        table #cas {
            thead { tr {
                th scope="col" { "Id" } th scope="col" { "Role" } th scope="col" { "Parent" }
                th scope="col" { "Subject" } th scope="col" { "Key" } th scope="col" { "Signature hash" }
                th scope="col" { "Valid" } th scope="col" { "State" } th scope="col" { "Certificate" }
            } }
            tbody {
                @for ca in &cas {
                    @let m = ca.metadata();
                    @let parsed = X509Certificate::from_der(ca.certificate_der()).ok().map(|(_, c)| c);
                    tr {
                        td { (m.id) }
                        td { (format!("{:?}", m.role).to_ascii_lowercase()) }
                        td { (m.parent.clone().unwrap_or_default()) }
                        td { (parsed.as_ref().map(|c| c.subject().to_string()).unwrap_or_default()) }
                        td { (format!("{:?}", m.key_algorithm)) }
                        td { (format!("{:?}", m.hash)) }
                        td { @if let Some(c) = &parsed {
                            (day(c.validity().not_before.timestamp())) " to " (day(c.validity().not_after.timestamp()))
                        } }
                        td { (format!("{:?}", m.state).to_ascii_lowercase()) }
                        td { a href=(format!("/ca/{}.pem", m.id)) { (m.id) ".pem" } }
                    }
                }
            }
        }
    }
}

/// The profiles, each with its settings in the profile file's own TOML.
pub fn profiles(ra: &RegistrationAuthority, _admin: &Administrator) -> Markup {
    html! {
        @for profile in ra.ca().profiles().iter() {
            section.card {
                h2 { (profile.name) }
                p {
                    (super::certificates::class_word(CertificateClass::of(profile.certificate_type)).1) " certificates"
                    @if !profile.description.is_empty() { ": " (profile.description) }
                }
                pre { (toml::to_string_pretty(profile).unwrap_or_else(|e| format!("(cannot show: {e})"))) }
            }
        }
    }
}
