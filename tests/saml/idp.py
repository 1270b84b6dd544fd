#!/usr/bin/env python3
"""A SAML 2.0 identity provider for tests, built on pysaml2's ``saml2.server.Server``
(signing with Debian's ``xmlsec1``). It signs in a configured test user without a login
form.

Endpoints (on http://HOST:PORT):

  GET /metadata          its metadata (also written to --metadata-out)
  GET /sso/redirect      SP-initiated: answers an AuthnRequest (HTTP-Redirect binding)
                         with an auto-submitting form that POSTs the signed Response and
                         the RelayState to the SP's ACS (HTTP-POST binding)
  GET /idp-initiated     IdP-initiated: the same form with an unsolicited Response
                         (no InResponseTo); ?relay_state=/console/queue to go there
  GET /control           sets the defaults of later answers: ?user=NAME&mode=MODE

Both answer endpoints take ?user=NAME and ?mode=MODE too (for /sso/redirect, appended to
the SP's redirect URL); otherwise /control's, else --default-user and mode "normal".

Modes, to test an SP's refusals (each still signed with the IdP's key, except "tamper"):

  normal          a valid Response
  tamper          signed, then the eduPersonPrincipalName value changed (bad signature)
  wrong-audience  the Audience is another SP's
  expired         every NotOnOrAfter in the past (and IssueInstant an hour ago)
  unsigned        no signature at all

Users come from --users FILE (JSON: {"alice": {"eduPersonPrincipalName": ["..."], ...}})
and/or --user NAME:ATTR=VALUE[|VALUE];ATTR=VALUE (repeatable); attributes use pysaml2's
friendly names (eduPersonPrincipalName, mail, givenName, sn, eduPersonAffiliation, ...)
and are sent with the URI name format (urn:oid:... with FriendlyName).

The port: --port 0 (the default) lets the system choose; the base URL is printed as
"READY <url>" once the metadata is written, and written to --ready-file if given.
Key and certificate: --key/--cert (PEM), else a fresh RSA 2048 pair in --workdir.

Example:
  python3 tests/saml/idp.py --sp-metadata sp.xml --metadata-out idp.xml \\
      --user 'alice:eduPersonPrincipalName=alice@example.org;mail=alice@example.org'
"""

import argparse
import datetime
import json
import os
import re
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NAMEID_FORMAT_UNSPECIFIED
from saml2.saml import AUTHN_PASSWORD_PROTECTED
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
MODES = ("normal", "tamper", "wrong-audience", "expired", "unsigned")
EPPN = "eduPersonPrincipalName"


def parse_user(spec):
    """NAME:ATTR=V1|V2;ATTR=V -> (NAME, {ATTR: [V1, V2], ...})"""
    name, _, rest = spec.partition(":")
    if not name or not rest:
        raise argparse.ArgumentTypeError(f"--user {spec!r}: use NAME:ATTR=VALUE;ATTR=VALUE")
    attributes = {}
    for pair in rest.split(";"):
        if not pair.strip():
            continue
        attr, _, values = pair.partition("=")
        attributes[attr.strip()] = [v for v in values.split("|") if v]
    return name, attributes


def make_key_pair(workdir):
    """A self-signed RSA 2048 certificate and key (PEM files) for the IdP."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Certwright test IdP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file = os.path.join(workdir, "idp.key")
    cert_file = os.path.join(workdir, "idp.crt")
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class Idp:
    def __init__(self, args, base_url):
        self.args = args
        self.base_url = base_url
        self.entity_id = args.entity_id or f"{base_url}/metadata"
        workdir = args.workdir or tempfile.mkdtemp(prefix="saml-idp-")
        os.makedirs(workdir, exist_ok=True)
        if args.key and args.cert:
            key_file, cert_file = args.key, args.cert
        else:
            key_file, cert_file = make_key_pair(workdir)
        self.config = IdPConfig()
        self.config.load(
            {
                "entityid": self.entity_id,
                "description": "Certwright test IdP",
                "service": {
                    "idp": {
                        "name": "Certwright test IdP",
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                            ],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 15},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            },
                        },
                        "name_id_format": [NAMEID_FORMAT_TRANSIENT, NAMEID_FORMAT_UNSPECIFIED],
                        "want_authn_requests_signed": False,
                        "sign_response": args.sign in ("response", "both"),
                        "sign_assertion": args.sign in ("assertion", "both"),
                    },
                },
                "key_file": key_file,
                "cert_file": cert_file,
                "xmlsec_binary": args.xmlsec1,
                "metadata": {"local": [args.sp_metadata]},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        )
        self.server = Server(config=self.config)
        self.users = {}
        if args.users:
            with open(args.users) as f:
                self.users.update(json.load(f))
        for name, attributes in args.user or []:
            self.users[name] = attributes
        if not self.users:
            sys.exit("no test user: give --users FILE or --user NAME:ATTR=VALUE")
        self.default_user = args.default_user or next(iter(self.users))
        self.default_mode = "normal"
        self.lock = threading.Lock()

    def metadata(self):
        return entity_descriptor(self.config).to_string().decode("utf-8")

    def sp_entity_id(self):
        return next(iter(self.server.metadata.service_providers()))

    def acs(self, sp_entity_id):
        endpoints = self.server.metadata.assertion_consumer_service(
            sp_entity_id, binding=BINDING_HTTP_POST
        )
        return endpoints[0]["location"]

    def pick(self, query):
        with self.lock:
            user = query.get("user", self.default_user)
            mode = query.get("mode", self.default_mode)
        if user not in self.users:
            raise ValueError(f"no test user {user!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        return user, mode

    def response(self, user, mode, in_response_to, destination, sp_entity_id, name_id_policy):
        identity = self.users[user]
        sign_assertion = self.args.sign in ("assertion", "both") and mode != "unsigned"
        sign_response = self.args.sign in ("response", "both") and mode != "unsigned"
        response = self.server.create_authn_response(
            identity,
            in_response_to,
            destination,
            sp_entity_id,
            name_id_policy=name_id_policy,
            userid=user,
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            # SHA-2: pysaml2 signs with RSA-SHA1 unless told otherwise.
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        xml = str(response)
        if mode == "tamper":
            eppn = (identity.get(EPPN) or [""])[0]
            tampered = xml.replace(f">{eppn}<", ">mallory@attacker.example<")
            if tampered == xml:
                raise ValueError("nothing to tamper with: the user has no eduPersonPrincipalName")
            return tampered
        if mode in ("wrong-audience", "expired"):
            if mode == "wrong-audience":
                xml = re.sub(
                    r"(<(?:\w+:)?Audience>)[^<]*(</)",
                    r"\1https://another-sp.example/metadata\2",
                    xml,
                )
            else:
                now = datetime.datetime.now(datetime.timezone.utc)

                def at(delta):
                    return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

                xml = re.sub(r'NotOnOrAfter="[^"]*"', f'NotOnOrAfter="{at(datetime.timedelta(minutes=-30))}"', xml)
                xml = re.sub(r'NotBefore="[^"]*"', f'NotBefore="{at(datetime.timedelta(hours=-1))}"', xml)
                xml = re.sub(r'IssueInstant="[^"]*"', f'IssueInstant="{at(datetime.timedelta(hours=-1))}"', xml)
                xml = re.sub(r'AuthnInstant="[^"]*"', f'AuthnInstant="{at(datetime.timedelta(hours=-1))}"', xml)
            # Signed again after the change, with the IdP's own key: only the content is wrong.
            if sign_assertion:
                assertion_id = re.search(r'<(?:\w+:)?Assertion [^>]*\bID="([^"]+)"', xml).group(1)
                xml = self.server.sec.sign_statement(xml, ASSERTION, node_id=assertion_id)
            if sign_response:
                response_id = re.search(r'<(?:\w+:)?Response [^>]*\bID="([^"]+)"', xml).group(1)
                xml = self.server.sec.sign_statement(xml, RESPONSE, node_id=response_id)
        return xml

    def form(self, xml, destination, relay_state):
        answer = self.server.apply_binding(
            BINDING_HTTP_POST, xml, destination, relay_state or "", response=True
        )
        return answer["data"]

    def sso_redirect(self, query):
        request = self.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        args = self.server.response_args(request.message, [BINDING_HTTP_POST])
        user, mode = self.pick(query)
        xml = self.response(
            user,
            mode,
            args["in_response_to"],
            args["destination"],
            args["sp_entity_id"],
            args.get("name_id_policy"),
        )
        return self.form(xml, args["destination"], query.get("RelayState", ""))

    def idp_initiated(self, query):
        user, mode = self.pick(query)
        sp = query.get("sp", self.sp_entity_id())
        destination = self.acs(sp)
        xml = self.response(user, mode, None, destination, sp, None)
        return self.form(xml, destination, query.get("relay_state", ""))

    def control(self, query):
        with self.lock:
            if "user" in query:
                if query["user"] not in self.users:
                    raise ValueError(f"no test user {query['user']!r}")
                self.default_user = query["user"]
            if "mode" in query:
                if query["mode"] not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}")
                self.default_mode = query["mode"]
            return json.dumps({"user": self.default_user, "mode": self.default_mode})


def handler_for(idp):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            try:
                if url.path == "/metadata":
                    self.answer(200, "application/samlmetadata+xml", idp.metadata())
                elif url.path == "/sso/redirect":
                    self.answer(200, "text/html; charset=utf-8", idp.sso_redirect(query))
                elif url.path == "/idp-initiated":
                    self.answer(200, "text/html; charset=utf-8", idp.idp_initiated(query))
                elif url.path == "/control":
                    self.answer(200, "application/json", idp.control(query))
                else:
                    self.answer(404, "text/plain", "not found\n")
            except Exception as e:  # a test IdP: say what went wrong
                self.answer(400, "text/plain", f"{type(e).__name__}: {e}\n")

        def answer(self, status, content_type, body):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            sys.stderr.write("idp: " + (format % args) + "\n")

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: the system picks a free one")
    parser.add_argument("--sp-metadata", required=True, help="the SP's metadata (XML file)")
    parser.add_argument("--metadata-out", help="write the IdP's metadata here")
    parser.add_argument("--ready-file", help="write the base URL here once ready")
    parser.add_argument("--entity-id", help="default: <base URL>/metadata")
    parser.add_argument("--key", help="signing key (PEM); with --cert")
    parser.add_argument("--cert", help="signing certificate (PEM); with --key")
    parser.add_argument("--workdir", help="where a generated key pair goes")
    parser.add_argument("--users", help="JSON file of users and their attributes")
    parser.add_argument("--user", action="append", type=parse_user, help="NAME:ATTR=VALUE[|VALUE];...")
    parser.add_argument("--default-user")
    parser.add_argument("--sign", choices=("assertion", "response", "both"), default="assertion")
    parser.add_argument("--xmlsec1", default="/usr/bin/xmlsec1")
    args = parser.parse_args()

    httpd = ThreadingHTTPServer((args.host, args.port), None)
    host, port = httpd.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown}:{port}"
    idp = Idp(args, base_url)
    httpd.RequestHandlerClass = handler_for(idp)
    if args.metadata_out:
        with open(args.metadata_out, "w") as f:
            f.write(idp.metadata())
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(base_url + "\n")
    print(f"READY {base_url}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
