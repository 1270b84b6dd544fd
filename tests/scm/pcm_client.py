"""Drive the PyPI package `cert-manager` (broadinstitute/python-cert_manager), a
third-party Python interface to the certificate manager's REST API, against
Certwright: one step per invocation, its result as JSON on stdout.

    python3 pcm_client.py <base_url> <customer_uri> <login> <password_file> <step> [args...]

`password_file` may be `cert:<certificate file>:<key file>` for the package's
client-certificate mode (base URL under /private/api). The TLS trust anchor
comes from REQUESTS_CA_BUNDLE (the demo root).
"""

import json
import sys

from cert_manager import SSL, Client, Organization
from cert_manager._helpers import PendingError


def main():
    base_url, customer_uri, login, password_file, step, *args = sys.argv[1:]
    if password_file.startswith("cert:"):
        _, crt, key = password_file.split(":", 2)
        client = Client(base_url=base_url, login_uri=customer_uri, username=login,
                        cert_auth=True, user_crt_file=crt, user_key_file=key)
    else:
        with open(password_file, encoding="utf-8") as f:
            password = f.readline().strip()
        client = Client(base_url=base_url, login_uri=customer_uri, username=login, password=password)
    ssl = SSL(client=client)
    if step == "orgs":
        out = Organization(client=client).all()
    elif step == "find-org":
        out = Organization(client=client).find(org_name=args[0])
    elif step == "types":
        out = ssl.types
    elif step == "custom-fields":
        out = ssl.custom_fields
    elif step == "enroll":
        type_name, csr_file, term, org_id, sans = args
        with open(csr_file, encoding="ascii") as f:
            csr = f.read()
        out = ssl.enroll(
            cert_type_name=type_name,
            csr=csr,
            term=int(term),
            org_id=int(org_id),
            subject_alt_names=sans.split(",") if sans else None,
            external_requester="ops@example.test",
        )
    elif step == "collect":
        try:
            out = {"certificate": ssl.collect(cert_id=int(args[0]), cert_format=args[1])}
        except PendingError as exc:
            out = {"pending": str(exc)}
    elif step == "get":
        out = ssl.get(int(args[0]))
    elif step == "list":
        out = list(ssl.list(**dict(a.split("=", 1) for a in args)))
    elif step == "count":
        out = ssl.count(**dict(a.split("=", 1) for a in args))
    elif step == "renew":
        out = ssl.renew(int(args[0]))
    elif step == "replace":
        cert_id, csr_file, common_name = args
        with open(csr_file, encoding="ascii") as f:
            csr = f.read()
        out = ssl.replace(
            cert_id=int(cert_id), csr=csr, common_name=common_name, reason="key rotated",
            subject_alt_names=common_name,
        )
    elif step == "revoke":
        out = ssl.revoke(int(args[0]), reason=args[1])
    else:
        raise SystemExit(f"unknown step {step}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
