#!/usr/bin/env bash
# Runs the gateway on its embedded default (./ca-data, created on first start),
# after installing the Debian packages the build needs when they are missing.
#
#   scripts/serve.sh                 # ca-admin serve
#   scripts/serve.sh --help          # extra arguments go to `ca-admin serve`
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
. scripts/build-deps.sh
apt_install
exec cargo run --release -p ca-admin -- serve "$@"
