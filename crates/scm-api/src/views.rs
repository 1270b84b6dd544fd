//! The reference's answer shapes: organizations, profiles ("types"),
//! certificate details and list rows.

use ca_core::certificates::CertificateRecord;
use ca_core::keys::KeyAlgorithm;
use ca_core::profile::CertificateProfile;
use policy::model::{Department, Organization};
use policy::request::{CertificateRequest, StateName};
use serde_json::{json, Map, Value};

use crate::dates::DateStyle;
use crate::routes::Area;

/// An organization with its departments, as the list shows it.
pub fn organization_row(org: &Organization, departments: &[Department]) -> Value {
    json!({
        "id": org.id.0,
        "name": org.name,
        "departments": departments
            .iter()
            .filter(|d| d.org == org.id)
            .map(|d| department_row(d, org))
            .collect::<Vec<_>>(),
    })
}

/// A department as a nested row.
pub fn department_row(dept: &Department, org: &Organization) -> Value {
    json!({ "id": dept.id.0, "name": dept.name, "parentName": org.name })
}

/// An organization's details.
pub fn organization_details(org: &Organization, departments: &[Department]) -> Value {
    let mut v = organization_row(org, departments);
    let m = v.as_object_mut().expect("an object");
    if let Some(city) = &org.address.locality {
        m.insert("city".into(), json!(city));
    }
    if let Some(state) = &org.address.state {
        m.insert("stateOrProvince".into(), json!(state));
    }
    if let Some(country) = &org.address.country {
        m.insert("country".into(), json!(country));
    }
    m.insert("certTypes".into(), json!(["SSL", "SMIME", "Device"]));
    m.insert("sslCertsApiEnabled".into(), json!(true));
    m.insert("clientCertsApiEnabled".into(), json!(true));
    v
}

/// A department's details: the shape of an organization's, with its parent's name.
pub fn department_details(dept: &Department, org: &Organization) -> Value {
    let mut v = organization_details(org, &[]);
    let m = v.as_object_mut().expect("an object");
    m.insert("id".into(), json!(dept.id.0));
    m.insert("name".into(), json!(dept.name));
    m.insert("parentName".into(), json!(org.name));
    v
}

/// The reference's key types: `{"RSA": ["2048", ...], "EC": ["P-256", ...]}`.
pub fn key_types(profile: &CertificateProfile) -> Value {
    let mut rsa = Vec::new();
    let mut ec = Vec::new();
    for k in &profile.key_types {
        match k {
            KeyAlgorithm::Rsa2048 => rsa.push("2048"),
            KeyAlgorithm::Rsa3072 => rsa.push("3072"),
            KeyAlgorithm::Rsa4096 => rsa.push("4096"),
            KeyAlgorithm::EcP256 => ec.push("P-256"),
            KeyAlgorithm::EcP384 => ec.push("P-384"),
        }
    }
    let mut m = Map::new();
    if !rsa.is_empty() {
        m.insert("RSA".into(), json!(rsa));
    }
    if !ec.is_empty() {
        m.insert("EC".into(), json!(ec));
    }
    Value::Object(m)
}

/// A profile as `/types` lists it.
pub fn profile_type(number: u64, profile: &CertificateProfile) -> Value {
    json!({
        "id": number,
        "name": profile.name,
        "description": profile.description,
        "terms": profile.terms_days,
        "keyTypes": key_types(profile),
        "useSecondaryOrgName": false,
    })
}

/// A request's status in the reference's words.
pub fn status(state: StateName) -> &'static str {
    match state {
        StateName::Requested => "Requested",
        StateName::Approved => "Approved",
        StateName::Declined => "Declined",
        StateName::Invalid => "Invalid",
        StateName::Rejected => "Rejected",
        StateName::Issued => "Issued",
        StateName::Revoked => "Revoked",
        StateName::Expired => "Expired",
        StateName::Replaced => "Replaced",
    }
}

/// The reference's status word back into a state (case-insensitive).
pub fn parse_status(word: &str) -> Option<StateName> {
    StateName::ALL
        .into_iter()
        .find(|s| status(*s).eq_ignore_ascii_case(word.trim()))
}

/// `requestedVia` for a channel.
pub fn requested_via(request: &CertificateRequest) -> &'static str {
    use policy::request::Channel;
    match request.channel {
        Channel::Acme => "ACME",
        Channel::Scep => "SCEP",
        Channel::Est => "EST",
        Channel::Rest | Channel::Cli => "Client Admin",
        Channel::ScmApi => "Web API",
        Channel::Import => "Imported",
    }
}

/// A serial number as the reference writes it: upper-case hex octets joined by colons.
pub fn serial_text(record: &CertificateRecord) -> String {
    record
        .serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Facts read off a certificate's DER.
#[derive(Debug, Default)]
pub struct CertificateFacts {
    /// The subject's CN.
    pub common_name: Option<String>,
    /// The issuer, RFC 4514 text.
    pub issuer: String,
    /// The subject, RFC 4514 text.
    pub subject: String,
    /// "RSA" or "EC".
    pub key_algorithm: &'static str,
    /// "2048", "P-256".
    pub key_size: Option<String>,
    /// Java-style signature algorithm name.
    pub signature_alg: String,
    /// SHA-1 of the DER, upper-case hex (the reference's `sha1Hash`).
    pub sha1: String,
}

/// Reads the facts off a certificate's DER (empty facts for DER that does not parse).
pub fn facts(der: &[u8]) -> CertificateFacts {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return CertificateFacts::default();
    };
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let (key_algorithm, key_size) = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            ("RSA", Some(rsa.key_size().to_string()))
        }
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => (
            "EC",
            Some(match ec.key_size() {
                256 => "P-256".to_string(),
                384 => "P-384".to_string(),
                n => n.to_string(),
            }),
        ),
        _ => ("", None),
    };
    let signature_alg = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" => "SHA256withECDSA",
        "1.2.840.10045.4.3.3" => "SHA384withECDSA",
        "1.2.840.113549.1.1.11" => "SHA256withRSA",
        "1.2.840.113549.1.1.12" => "SHA384withRSA",
        "1.2.840.113549.1.1.13" => "SHA512withRSA",
        _ => "",
    }
    .to_string();
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    CertificateFacts {
        common_name,
        issuer: cert.issuer().to_string(),
        subject: cert.subject().to_string(),
        key_algorithm,
        key_size,
        signature_alg,
        sha1: hex::encode_upper(sha1.as_ref()),
    }
}

/// The common name shown for a request: the certificate's CN, else the first name asked for.
pub fn common_name(
    request: &CertificateRequest,
    certificate: Option<&CertificateRecord>,
) -> String {
    certificate
        .and_then(|c| facts(&c.der).common_name)
        .or_else(|| request.names.first().map(|n| n.value()))
        .unwrap_or_default()
}

/// A row of an area's list: summary only (clients read the details of each).
pub fn list_row(
    area: Area,
    request: &CertificateRequest,
    certificate: Option<&CertificateRecord>,
) -> Value {
    let id = request.id.0;
    let mut row = match area {
        Area::Ssl => json!({
            "sslId": id,
            "commonName": common_name(request, certificate),
            "subjectAlternativeNames": request.names.iter().map(|n| n.value()).collect::<Vec<_>>(),
        }),
        Area::Device => json!({
            "id": id,
            "status": status(request.state.name()),
            "backendCertId": id.to_string(),
        }),
        Area::Smime => json!({
            "id": id,
            "state": status(request.state.name()).to_ascii_lowercase(),
            "orderNumber": id,
            "backendCertId": id.to_string(),
        }),
    };
    if let Some(c) = certificate {
        row["serialNumber"] = json!(serial_text(c));
        if area != Area::Ssl {
            row["certificateDetails"] = json!({"subject": facts(&c.der).subject});
        }
        if area == Area::Smime {
            row["expires"] = json!(DateStyle {
                format: crate::dates::DateFormat::Iso,
                with_time: false
            }
            .format(c.not_after));
        }
    }
    if area == Area::Smime && !request.annotations.comments.is_empty() {
        row["comments"] = json!(request.annotations.comments);
    }
    row
}

/// When each transition into `state` happened, if it did.
fn transition_at(request: &CertificateRequest, state: StateName) -> Option<i64> {
    request
        .history
        .iter()
        .rev()
        .find(|t| t.to == state)
        .map(|t| t.at)
}

/// Everything a details answer needs.
pub struct DetailsInput<'a> {
    /// The request (the reference's "SSL certificate", `sslId`).
    pub request: &'a CertificateRequest,
    /// Its certificate, once issued.
    pub certificate: Option<&'a CertificateRecord>,
    /// The id shown as `orgId` (the department's when it has one).
    pub org_unit: u64,
    /// The profile's number and the profile.
    pub profile: Option<(u64, &'a CertificateProfile)>,
    /// The date style asked for.
    pub dates: DateStyle,
    /// The area it is shown in (S/MIME writes its status in lower case).
    pub area: Area,
}

/// The details object (fields with no value are left out).
pub fn details(input: DetailsInput<'_>) -> Value {
    let DetailsInput {
        request,
        certificate,
        org_unit,
        profile,
        dates,
        area,
    } = input;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("commonName", json!(common_name(request, certificate)));
    put("sslId", json!(request.id.0));
    put("id", json!(request.id.0));
    put("orgId", json!(org_unit));
    let shown = status(request.state.name());
    put(
        "status",
        json!(if area == Area::Smime {
            shown.to_ascii_lowercase()
        } else {
            shown.to_string()
        }),
    );
    put("orderNumber", json!(request.id.0));
    put("backendCertId", json!(request.id.0.to_string()));
    put("vendor", json!("Certwright"));
    if let Some((number, p)) = profile {
        put("certType", profile_type(number, p));
        let term = request.term_days.unwrap_or(p.default_term_days);
        put("term", json!(term));
    }
    put("requester", json!(request.requester));
    put("requestedVia", json!(requested_via(request)));
    if !request.annotations.comments.is_empty() {
        put("comments", json!(request.annotations.comments));
    }
    if !request.annotations.external_requester.is_empty() {
        put(
            "externalRequester",
            json!(request.annotations.external_requester),
        );
    }
    put("requested", json!(dates.format(request.created_at)));
    for (field, state) in [
        ("approved", StateName::Approved),
        ("declined", StateName::Declined),
        ("revoked", StateName::Revoked),
        ("replaced", StateName::Replaced),
    ] {
        if let Some(at) = transition_at(request, state) {
            put(field, json!(dates.format(at)));
        }
    }
    put(
        "subjectAlternativeNames",
        json!(request.names.iter().map(|n| n.value()).collect::<Vec<_>>()),
    );
    put(
        "customFields",
        json!(request
            .annotations
            .custom_fields
            .iter()
            .map(|f| json!({"name": f.name, "value": f.value}))
            .collect::<Vec<_>>()),
    );
    if let Some(c) = certificate {
        let f = facts(&c.der);
        put("issued", json!(dates.format(c.issued_at)));
        put("expires", json!(dates.format(c.not_after)));
        put("serialNumber", json!(serial_text(c)));
        if let ca_core::certificates::CertificateStatus::Revoked { reason, .. } = &c.status {
            put("reasonCode", json!(reason.code()));
        }
        put("signatureAlg", json!(f.signature_alg));
        put("keyAlgorithm", json!(f.key_algorithm));
        if let Some(size) = &f.key_size {
            put("keySize", json!(size));
            put("keyType", json!(format!("{} - {size}", f.key_algorithm)));
        }
        put(
            "certificateDetails",
            json!({
                "issuer": f.issuer,
                "subject": f.subject,
                "subjectAltNames": c.names.iter().map(|n| format!("dNSName={}", n.value())).collect::<Vec<_>>().join(", "),
                "sha1Hash": f.sha1,
            }),
        );
    }
    put("renewed", json!(false));
    put("suspendNotifications", json!(false));
    Value::Object(m)
}
