//! Unit tests with a test IdP whose RSA key and certificate are made here, signing
//! Responses with the same xmlsec that verifies them.

use std::io::Read;

use base64::Engine;
use chrono::{SecondsFormat, TimeZone, Utc};
use samael::crypto::{Crypto, CryptoProvider};
use samael::idp::{CertificateParams, IdentityProvider as TestIdp, KeyType, Rsa};

use super::*;

const BASE: &str = "https://pki.example.test:8443";
const IDP_ENTITY: &str = "https://idp.example.test/saml/metadata";
const REQUEST_ID: &str = "_0123456789abcdef0123456789abcdef";

struct Idp {
    key_der: Vec<u8>,
    cert_der: Vec<u8>,
}

impl Idp {
    fn new(name: &str) -> Self {
        let idp = TestIdp::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
        let cert = idp
            .create_certificate(&CertificateParams {
                common_name: name,
                issuer_name: name,
                days_until_expiration: 30,
            })
            .unwrap();
        Self {
            key_der: idp.export_private_key_der().unwrap(),
            cert_der: cert.der_data().to_vec(),
        }
    }

    fn config(&self) -> IdentityProvider {
        IdentityProvider {
            entity_id: IDP_ENTITY.into(),
            sso_url: "https://idp.example.test/sso".into(),
            signing_certificates: vec![self.cert_der.clone()],
        }
    }

    fn sign(&self, xml: &str) -> String {
        let signed = Crypto::sign_xml(xml, &self.key_der).unwrap();
        // libxml writes an XML declaration; drop it so the text can be embedded.
        match signed.strip_prefix("<?xml version=\"1.0\"?>") {
            Some(rest) => rest.trim_start().to_string(),
            None => signed,
        }
    }
}

fn at(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn now() -> i64 {
    Utc::now().timestamp()
}

fn sp() -> ServiceProvider {
    ServiceProvider::at(BASE)
}

/// What an assertion or Response says; each test changes one thing.
#[derive(Clone)]
struct Claims {
    assertion_id: String,
    issuer: String,
    audience: Option<String>,
    recipient: String,
    destination: String,
    in_response_to: Option<String>,
    response_in_response_to: Option<String>,
    issued: i64,
    not_before: i64,
    not_on_or_after: i64,
    eppn: String,
    status: String,
    signature_method: &'static str,
    digest_method: &'static str,
}

impl Claims {
    fn new() -> Self {
        let now = now();
        Self {
            assertion_id: format!("_a{}", random_id().trim_start_matches('_')),
            issuer: IDP_ENTITY.into(),
            audience: Some(sp().entity_id().into()),
            recipient: sp().acs_url().into(),
            destination: sp().acs_url().into(),
            in_response_to: Some(REQUEST_ID.into()),
            response_in_response_to: Some(REQUEST_ID.into()),
            issued: now - 5,
            not_before: now - 5,
            not_on_or_after: now + 300,
            eppn: "alice@example.test".into(),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
            signature_method: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            digest_method: "http://www.w3.org/2001/04/xmlenc#sha256",
        }
    }

    fn signature_template(&self, reference: &str, cert_der: &[u8]) -> String {
        let cert = base64::engine::general_purpose::STANDARD.encode(cert_der);
        format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{}"/><ds:Reference URI="#{reference}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
            self.signature_method, self.digest_method
        )
    }

    /// The assertion, with a signature template when `signed_by` is given.
    fn assertion(&self, signed_by: Option<&Idp>) -> String {
        let signature = signed_by
            .map(|idp| self.signature_template(&self.assertion_id, &idp.cert_der))
            .unwrap_or_default();
        let in_response_to = self
            .in_response_to
            .as_ref()
            .map(|id| format!(" InResponseTo=\"{id}\""))
            .unwrap_or_default();
        let audience = self
            .audience
            .as_ref()
            .map(|a| {
                format!("<saml:AudienceRestriction><saml:Audience>{a}</saml:Audience></saml:AudienceRestriction>")
            })
            .unwrap_or_default();
        let xml = format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" Version="2.0" IssueInstant="{issued}"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">t-123</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{noa}" Recipient="{recipient}"{in_response_to}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{nb}" NotOnOrAfter="{noa}">{audience}</saml:Conditions><saml:AuthnStatement AuthnInstant="{issued}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.6" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="eduPersonPrincipalName"><saml:AttributeValue xsi:type="xs:string">{eppn}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="urn:oid:0.9.2342.19200300.100.1.3" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml:AttributeValue xsi:type="xs:string">alice@mail.example.test</saml:AttributeValue></saml:Attribute><saml:Attribute Name="givenName"><saml:AttributeValue>Alice</saml:AttributeValue></saml:Attribute><saml:Attribute Name="groups"><saml:AttributeValue>pki-admins</saml:AttributeValue><saml:AttributeValue>staff</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#,
            id = self.assertion_id,
            issued = at(self.issued),
            issuer = self.issuer,
            noa = at(self.not_on_or_after),
            nb = at(self.not_before),
            recipient = self.recipient,
            eppn = self.eppn,
        );
        match signed_by {
            Some(idp) => idp.sign(&xml),
            None => xml,
        }
    }

    /// A Response around `assertion`, signed as a whole when `signed_by` is given.
    fn response(&self, assertion: &str, signed_by: Option<&Idp>) -> String {
        let id = "_r0123456789";
        let signature = signed_by
            .map(|idp| self.signature_template(id, &idp.cert_der))
            .unwrap_or_default();
        let in_response_to = self
            .response_in_response_to
            .as_ref()
            .map(|id| format!(" InResponseTo=\"{id}\""))
            .unwrap_or_default();
        let xml = format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{issued}" Destination="{destination}"{in_response_to}><saml:Issuer>{issuer}</saml:Issuer>{signature}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>{assertion}</samlp:Response>"#,
            issued = at(self.issued),
            destination = self.destination,
            issuer = self.issuer,
            status = self.status,
        );
        match signed_by {
            Some(idp) => idp.sign(&xml),
            None => xml,
        }
    }

    /// A Response whose assertion alone is signed.
    fn assertion_signed(&self, idp: &Idp) -> String {
        self.response(&self.assertion(Some(idp)), None)
    }

    /// A Response signed as a whole, its assertion not.
    fn response_signed(&self, idp: &Idp) -> String {
        self.response(&self.assertion(None), Some(idp))
    }
}

fn encode(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

fn verify(idp: &Idp, xml: &str) -> Result<VerifiedAssertion, SamlRefusal> {
    sp().verify_response(&idp.config(), &encode(xml), now())
}

#[test]
fn an_assertion_signed_by_the_idp_is_read() {
    let idp = Idp::new("Test IdP");
    let claims = Claims::new();
    let verified = verify(&idp, &claims.assertion_signed(&idp)).expect("verified");
    assert_eq!(verified.id, claims.assertion_id);
    assert_eq!(verified.issuer, IDP_ENTITY);
    assert_eq!(verified.in_response_to.as_deref(), Some(REQUEST_ID));
    assert_eq!(
        verified.first(attributes::EPPN).as_deref(),
        Some("alice@example.test")
    );
    assert_eq!(
        verified.first(attributes::MAIL).as_deref(),
        Some("alice@mail.example.test"),
        "mail by its OID"
    );
    assert_eq!(
        verified.first(attributes::GIVEN_NAME).as_deref(),
        Some("Alice")
    );
    assert_eq!(verified.values(&["groups"]), ["pki-admins", "staff"]);
    let by_name = verified.by_name();
    assert_eq!(
        by_name["mail"],
        ["alice@mail.example.test"],
        "OIDs get their friendly names"
    );
    assert_eq!(by_name["eduPersonPrincipalName"], ["alice@example.test"]);
    assert!(
        verified.valid_until > now()
            && verified.valid_until <= claims.not_on_or_after + CLOCK_SKEW_SECONDS
    );
}

#[test]
fn a_response_signed_as_a_whole_is_read() {
    let idp = Idp::new("Test IdP");
    let claims = Claims::new();
    let verified = verify(&idp, &claims.response_signed(&idp)).expect("verified");
    assert_eq!(
        verified.first(attributes::EPPN).as_deref(),
        Some("alice@example.test")
    );
    // Both signed: still one assertion.
    let both = claims.response(&claims.assertion(Some(&idp)), Some(&idp));
    assert_eq!(
        verify(&idp, &both).expect("verified").id,
        claims.assertion_id
    );
}

#[test]
fn an_unsigned_tampered_or_foreign_signature_is_refused() {
    let idp = Idp::new("Test IdP");
    let claims = Claims::new();
    let unsigned = claims.response(&claims.assertion(None), None);
    assert_eq!(verify(&idp, &unsigned), Err(SamlRefusal::BadSignature));

    for signed in [claims.assertion_signed(&idp), claims.response_signed(&idp)] {
        let tampered = signed.replace("alice@example.test", "mallory@example.test");
        assert_ne!(tampered, signed);
        assert_eq!(verify(&idp, &tampered), Err(SamlRefusal::BadSignature));
    }

    let other = Idp::new("Another IdP");
    assert_eq!(
        verify(&idp, &claims.assertion_signed(&other)),
        Err(SamlRefusal::BadSignature),
        "signed by a key that is not the IdP's"
    );
    // No certificate imported: nothing can verify.
    let mut none = idp.config();
    none.signing_certificates.clear();
    assert_eq!(
        sp().verify_response(&none, &encode(&claims.assertion_signed(&idp)), now()),
        Err(SamlRefusal::BadSignature)
    );
}

#[test]
fn sha1_signatures_are_refused() {
    let idp = Idp::new("Test IdP");
    let mut claims = Claims::new();
    claims.signature_method = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    claims.digest_method = "http://www.w3.org/2000/09/xmldsig#sha1";
    assert_eq!(
        verify(&idp, &claims.assertion_signed(&idp)),
        Err(SamlRefusal::BadSignature)
    );
}

#[test]
fn signature_wrapping_never_reads_the_unsigned_assertion() {
    let idp = Idp::new("Test IdP");
    let claims = Claims::new();
    let signed = claims.assertion(Some(&idp));
    let mut evil = claims.clone();
    evil.eppn = "mallory@example.test".into();
    evil.assertion_id = "_evil".into();
    let evil_assertion = evil.assertion(None);

    // The unsigned assertion before, and after, the signed one.
    for inner in [
        format!("{evil_assertion}{signed}"),
        format!("{signed}{evil_assertion}"),
    ] {
        let wrapped = claims.response(&inner, None);
        match verify(&idp, &wrapped) {
            Ok(verified) => {
                assert_eq!(verified.id, claims.assertion_id);
                assert_eq!(
                    verified.first(attributes::EPPN).as_deref(),
                    Some("alice@example.test")
                );
            }
            Err(e) => assert!(
                matches!(e, SamlRefusal::BadSignature | SamlRefusal::Malformed(_)),
                "{e:?}"
            ),
        }
    }
    // The signed assertion hidden inside the evil one's Subject.
    let nested = evil_assertion.replace("<saml:Subject>", &format!("<saml:Subject>{}", signed));
    match verify(&idp, &claims.response(&nested, None)) {
        Ok(verified) => assert_ne!(
            verified.first(attributes::EPPN).as_deref(),
            Some("mallory@example.test")
        ),
        Err(e) => assert!(
            matches!(e, SamlRefusal::BadSignature | SamlRefusal::Malformed(_)),
            "{e:?}"
        ),
    }
    // The same signature id twice (the signed one copied with the evil content).
    let duplicate = format!(
        "{}{}",
        signed.replace("alice@example.test", "mallory@example.test"),
        signed
    );
    assert!(verify(&idp, &claims.response(&duplicate, None)).is_err());
}

#[test]
fn audience_issuer_recipient_and_destination_must_be_ours() {
    let idp = Idp::new("Test IdP");
    let mut wrong = Claims::new();
    wrong.audience = Some("https://other.example.test/metadata".into());
    assert_eq!(
        verify(&idp, &wrong.assertion_signed(&idp)),
        Err(SamlRefusal::WrongAudience)
    );
    let mut missing = Claims::new();
    missing.audience = None;
    assert_eq!(
        verify(&idp, &missing.assertion_signed(&idp)),
        Err(SamlRefusal::WrongAudience)
    );

    let mut issuer = Claims::new();
    issuer.issuer = "https://evil.example.test/idp".into();
    assert_eq!(
        verify(&idp, &issuer.assertion_signed(&idp)),
        Err(SamlRefusal::WrongIssuer)
    );

    let mut recipient = Claims::new();
    recipient.recipient = "https://other.example.test/acs".into();
    assert_eq!(
        verify(&idp, &recipient.assertion_signed(&idp)),
        Err(SamlRefusal::WrongRecipient)
    );
    let mut destination = Claims::new();
    destination.destination = "https://other.example.test/acs".into();
    for xml in [
        destination.assertion_signed(&idp),
        destination.response_signed(&idp),
    ] {
        assert_eq!(verify(&idp, &xml), Err(SamlRefusal::WrongRecipient));
    }
}

#[test]
fn times_are_checked_with_the_skew() {
    let idp = Idp::new("Test IdP");
    let now = now();
    let mut expired = Claims::new();
    expired.issued = now - 600;
    expired.not_before = now - 600;
    expired.not_on_or_after = now - CLOCK_SKEW_SECONDS - 5;
    assert_eq!(
        verify(&idp, &expired.assertion_signed(&idp)),
        Err(SamlRefusal::Expired)
    );

    let mut early = Claims::new();
    early.not_before = now + CLOCK_SKEW_SECONDS + 120;
    assert_eq!(
        verify(&idp, &early.assertion_signed(&idp)),
        Err(SamlRefusal::NotYetValid)
    );

    // Within the skew: accepted.
    let mut skewed = Claims::new();
    skewed.not_before = now + CLOCK_SKEW_SECONDS - 20;
    skewed.issued = now + CLOCK_SKEW_SECONDS - 20;
    assert!(verify(&idp, &skewed.assertion_signed(&idp)).is_ok());

    // Issued long ago, though still "valid": too old.
    let mut stale = Claims::new();
    stale.issued = now - MAX_ISSUE_DELAY_SECONDS - CLOCK_SKEW_SECONDS - 60;
    stale.not_before = stale.issued;
    assert_eq!(
        verify(&idp, &stale.assertion_signed(&idp)),
        Err(SamlRefusal::Expired)
    );
}

#[test]
fn status_in_response_to_and_malformed_input() {
    let idp = Idp::new("Test IdP");
    let mut failed = Claims::new();
    failed.status = "urn:oasis:names:tc:SAML:2.0:status:Requester".into();
    assert_eq!(
        verify(&idp, &failed.assertion_signed(&idp)),
        Err(SamlRefusal::Status("Requester".into()))
    );

    let mut disagree = Claims::new();
    disagree.response_in_response_to = Some("_someotherrequest".into());
    assert_eq!(
        verify(&idp, &disagree.assertion_signed(&idp)),
        Err(SamlRefusal::UnknownRequest)
    );

    let mut unsolicited = Claims::new();
    unsolicited.in_response_to = None;
    unsolicited.response_in_response_to = None;
    assert_eq!(
        verify(&idp, &unsolicited.assertion_signed(&idp))
            .unwrap()
            .in_response_to,
        None
    );

    let sp = sp();
    let config = idp.config();
    assert!(matches!(
        sp.verify_response(&config, "", now()),
        Err(SamlRefusal::Malformed(_))
    ));
    assert!(matches!(
        sp.verify_response(&config, "%%%not base64", now()),
        Err(SamlRefusal::Malformed(_))
    ));
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY e \"alice\">]>{}",
        Claims::new().assertion_signed(&idp)
    );
    assert!(matches!(
        verify(&idp, &doctype),
        Err(SamlRefusal::Malformed(_))
    ));
    assert!(matches!(
        verify(&idp, "<html>not saml</html>"),
        Err(SamlRefusal::Malformed(_))
    ));
}

#[test]
fn authn_requests_go_by_the_redirect_binding() {
    let idp = Idp::new("Test IdP");
    let redirect = sp()
        .authn_request(&idp.config(), "/console/queue")
        .expect("a request");
    assert!(
        redirect.id.starts_with('_') && redirect.id.len() == 33,
        "{}",
        redirect.id
    );
    let url = redirect.url;
    assert!(
        url.starts_with("https://idp.example.test/sso?SAMLRequest="),
        "{url}"
    );
    assert!(url.contains("&RelayState=%2Fconsole%2Fqueue"), "{url}");
    let query = url.split_once('?').unwrap().1;
    let encoded = query
        .split('&')
        .find_map(|p| p.strip_prefix("SAMLRequest="))
        .unwrap();
    let encoded = percent_decode(encoded);
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains(&format!("ID=\"{}\"", redirect.id)), "{xml}");
    assert!(
        xml.contains(&format!(
            "AssertionConsumerServiceURL=\"{BASE}/console/saml/acs\""
        )),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("{BASE}/console/saml/metadata</saml2:Issuer>"))
            || xml.contains(&format!(">{BASE}/console/saml/metadata<")),
        "{xml}"
    );
    assert!(
        xml.contains("Destination=\"https://idp.example.test/sso\""),
        "{xml}"
    );

    // A RelayState beyond 80 bytes is not sent.
    let long = format!("/console/{}", "x".repeat(100));
    let url = sp().authn_request(&idp.config(), &long).unwrap().url;
    assert!(!url.contains("RelayState"), "{url}");
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn outstanding_requests_answer_once_within_their_lifetime() {
    let requests = OutstandingRequests::default();
    requests.remember("_a", 1000);
    requests.remember("_b", 1000);
    assert!(requests.take("_a", 1001));
    assert!(!requests.take("_a", 1002), "once");
    assert!(!requests.take("_c", 1002), "never issued");
    assert!(
        !requests.take("_b", 1000 + request::REQUEST_LIFETIME_SECONDS),
        "expired"
    );
}

#[test]
fn idp_metadata_is_read_and_sp_metadata_written() {
    let idp = Idp::new("Test IdP");
    let cert = base64::engine::general_purpose::STANDARD.encode(&idp.cert_der);
    // Shaped as Entra ID writes it: a signature, WS-Federation role descriptors (with
    // their claim types and endpoints), then the IdP.
    let entra = format!(
        r##"<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_abc" entityID="https://sts.windows.net/0000/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI="#_abc"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>AAAA</DigestValue></Reference></SignedInfo><SignatureValue>AAAA</SignatureValue></Signature><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName><auth:Description>A name.</auth:Description></auth:ClaimType></fed:ClaimTypesOffered><fed:SecurityTokenServiceEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/0000/wsfed</wsa:Address></wsa:EndpointReference></fed:SecurityTokenServiceEndpoint><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/0000/wsfed</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><RoleDescriptor xsi:type="fed:ApplicationServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:TargetScopes><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://sts.windows.net/0000/</wsa:Address></wsa:EndpointReference></fed:TargetScopes><fed:ApplicationServiceEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/0000/wsfed</wsa:Address></wsa:EndpointReference></fed:ApplicationServiceEndpoint></RoleDescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>
{cert}
</X509Certificate></X509Data></KeyInfo></KeyDescriptor><SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/0000/saml2"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/0000/saml2"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/0000/saml2"/></IDPSSODescriptor></EntityDescriptor>"##
    );
    let read = parse_idp_metadata(&entra).expect("Entra ID metadata");
    assert_eq!(read.entity_id, "https://sts.windows.net/0000/");
    assert_eq!(read.sso_url, "https://login.microsoftonline.com/0000/saml2");
    assert_eq!(read.signing_certificates, vec![idp.cert_der.clone()]);

    // Inside an EntitiesDescriptor, with prefixes.
    let wrapped = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><md:EntityDescriptor entityID="{IDP_ENTITY}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:1234/sso/redirect"/></md:IDPSSODescriptor></md:EntityDescriptor></md:EntitiesDescriptor>"#
    );
    let read = parse_idp_metadata(&wrapped).expect("an EntitiesDescriptor");
    assert_eq!(read.entity_id, IDP_ENTITY);
    assert_eq!(read.sso_url, "http://127.0.0.1:1234/sso/redirect");

    let no_redirect = wrapped.replace("HTTP-Redirect", "HTTP-POST");
    assert_eq!(
        parse_idp_metadata(&no_redirect),
        Err(MetadataError::NoRedirectBinding)
    );
    let no_key = wrapped.replace(&cert, "");
    assert!(parse_idp_metadata(&no_key).is_err());
    let bad_key = wrapped.replace(&cert, "bm90IGEgY2VydGlmaWNhdGU=");
    assert_eq!(
        parse_idp_metadata(&bad_key),
        Err(MetadataError::BadCertificate)
    );
    let sp_only = sp_metadata_xml(&sp());
    assert_eq!(
        parse_idp_metadata(&sp_only),
        Err(MetadataError::NoIdentityProvider)
    );
    assert!(matches!(
        parse_idp_metadata("not xml"),
        Err(MetadataError::Parse(_))
    ));

    // Ours: one XML declaration, the entity id, the ACS with the POST binding, unsigned requests.
    assert!(
        sp_only.starts_with("<?xml") && sp_only.matches("<?xml").count() == 1,
        "{sp_only}"
    );
    assert!(
        sp_only.contains(&format!("entityID=\"{BASE}/console/saml/metadata\"")),
        "{sp_only}"
    );
    assert!(
        sp_only.contains(&format!("Location=\"{BASE}/console/saml/acs\"")),
        "{sp_only}"
    );
    assert!(
        sp_only.contains("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
        "{sp_only}"
    );
    assert!(
        sp_only.contains("AuthnRequestsSigned=\"false\""),
        "{sp_only}"
    );
}
