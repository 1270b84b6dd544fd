#!/usr/bin/env bash
# The project's test command: installs what the tests need when it is missing
# (openssl, curl, the ACME clients certbot and lego and the SCEP clients
# scepclient (package scep) and certmonger's scep-submit, and Chromium for the
# console's browser tests, from Debian's packages; libxmlsec1-dev, libxml2-dev,
# libclang-dev and pkg-config for the SAML build and xmlsec1 for its test IdP, from
# Debian's packages too; playwright-core from npm;
# pkilint, the certificate manager API client cert-manager and pysaml2 from PyPI), then
# runs every test of the workspace, the integration
# tests with real outside tools included.
#
#   scripts/test.sh            # everything
#   scripts/test.sh crash      # extra arguments go to `cargo test` (here: a test-name filter)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
command -v certbot >/dev/null 2>&1 || need_apt+=(certbot)
command -v lego >/dev/null 2>&1 || need_apt+=(lego)
command -v scepclient >/dev/null 2>&1 || need_apt+=(scep)
[ -x /usr/lib/certmonger/scep-submit ] || need_apt+=(certmonger)
# What the build needs (scripts/build-deps.sh); the SAML test IdP signs with xmlsec1.
. scripts/build-deps.sh
if ! dpkg-query -W -f='${Status}' xmlsec1 2>/dev/null | grep -q "install ok installed"; then
  need_apt+=(xmlsec1)
fi
# The console's browser tests: Debian's Chromium, driven by playwright-core from npm.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
apt_install

if ! command -v lint_pkix_cert >/dev/null 2>&1; then
  echo "installing pkilint (pip)"
  python3 -m pip install --quiet --disable-pip-version-check pkilint \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pkilint
  hash -r
fi
# The certificate manager API's third-party Python client (broadinstitute/python-cert_manager).
if ! python3 -c "import cert_manager" >/dev/null 2>&1; then
  echo "installing cert-manager (pip)"
  python3 -m pip install --quiet --disable-pip-version-check "cert-manager==4.0.0" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "cert-manager==4.0.0"
fi
# playwright-core (no browser download: it drives /usr/bin/chromium).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "installing playwright-core (npm)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
# The SAML test IdP (tests/saml/idp.py) is pysaml2's.
if ! python3 -c "import saml2.server" >/dev/null 2>&1; then
  echo "installing pysaml2 (pip)"
  python3 -m pip install --quiet --disable-pip-version-check "pysaml2==7.5.5" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "pysaml2==7.5.5"
fi
# pip may install scripts outside PATH (user installs).
if ! command -v lint_pkix_cert >/dev/null 2>&1; then
  export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$PATH"
fi
command -v lint_pkix_cert >/dev/null 2>&1 || { echo "pkilint is still missing after installing it" >&2; exit 1; }

echo "openssl: $(openssl version)"
echo "pkilint: $(python3 -m pip show pkilint 2>/dev/null | awk '/^Version/ {print $2}')"
echo "certbot: $(certbot --version 2>&1)"
echo "lego: $(dpkg-query -W -f='${Version}' lego 2>/dev/null || lego --version)"
echo "scepclient: $(scepclient -version 2>&1)"
echo "cert-manager (PyPI): $(python3 -m pip show cert-manager 2>/dev/null | awk '/^Version/ {print $2}')"
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
echo "playwright-core: $(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version")"
echo "certmonger: $(dpkg-query -W -f='${Version}' certmonger 2>/dev/null || echo present)"
echo "pysaml2 (PyPI): $(python3 -m pip show pysaml2 2>/dev/null | awk '/^Version/ {print $2}'); $(xmlsec1 --version 2>/dev/null); libxmlsec1-dev $(dpkg-query -W -f='${Version}' libxmlsec1-dev 2>/dev/null)"
exec cargo test --workspace "$@"
