#!/usr/bin/env bash
# EST load benchmark: `simpleenroll` with HTTP Basic against `ca-admin serve` (release
# build, the demo endpoint /.well-known/est/), at concurrency 1 and 16, over TLS with
# connection reuse (tests/src/bin/est-load.rs: hyper-util's pooled HTTP/1.1 client, one
# kept-alive connection per worker, each enrollment with its own pre-generated P-256 key),
# next to the raw issuance limit measured in the same run (`ca-admin bench --json`: one
# core's 1/(CSR verify + P-256 sign), times the cores). Prints enrollments/s, p50/p99,
# server CPU per enrollment and the ratio to the raw limit. Nothing is asserted.
#
#   scripts/bench-est.sh
#   C1=200 C16=1600 scripts/bench-est.sh
#
# Settings: C1 (enrollments at concurrency 1, default 200), C16 (at 16, 1600), WARMUP
# (unmeasured enrollments first, 50), REQUEST_TIMEOUT (seconds per request, 30), BENCH_SECONDS
# (ca-admin bench, 2), SKIP_BUILD=1, KEEP=1 (keep the work directory).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
C1=${C1:-200}
C16=${C16:-1600}
WARMUP=${WARMUP:-50}
REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-30}
BENCH_SECONDS=${BENCH_SECONDS:-2}
if [ "${SKIP_BUILD:-}" != 1 ]; then
  cargo build --release -p ca-admin --bin ca-admin -p certwright-tests --bin est-load
fi
RELEASE=$(cd "$TARGET/release" && pwd)
BIN=$RELEASE/ca-admin
LOAD=$RELEASE/est-load
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "work directory: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

(cd "$WORK" && exec "$BIN" serve --http-listen 127.0.0.1:0 --https-listen 127.0.0.1:0 >serve.out 2>serve.err) &
SERVER_PID=$!
for _ in $(seq 1 120); do grep -q '^Ready\.' "$WORK/serve.out" 2>/dev/null && break; sleep 0.5; done
grep -q '^Ready\.' "$WORK/serve.out" || { echo "the gateway did not start"; cat "$WORK/serve.err"; exit 1; }
URL=$(awk '$1 == "EST" && $2 ~ /^https:/ {print $2}' "$WORK/serve.out")
PASSWORD=$(awk '$1 == "EST" && $2 == "password" {print $3}' "$WORK/serve.out")
ROOT=$WORK/ca-data/cas/demo-root/certificate.pem
CORES=$(nproc)

run() { # concurrency enrollments
  timeout 600 "$LOAD" --url "$URL" --root-ca "$ROOT" --user est --password "$PASSWORD" \
    --concurrency "$1" --enrollments "$2" --request-timeout "$REQUEST_TIMEOUT" --server-pid "$SERVER_PID"
}

echo "EST benchmark ($CORES cores, ca-admin serve at $URL)"
run 4 "$WARMUP" >/dev/null
R1=$(run 1 "$C1"); echo "  $R1"
R16=$(run 16 "$C16"); echo "  $R16"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

# The raw limit, same run, after the server stopped (so the two do not share the cores).
RAW=$("$BIN" bench --seconds "$BENCH_SECONDS" --json | python3 -c '
import json, sys
report = json.load(sys.stdin)
print(next(f["raw_limit_per_second"] for f in report["issuance"] if "256" in f["ca_key"]))')
python3 - "$RAW" "$CORES" "$R1" "$R16" <<'PY'
import sys
raw, cores = float(sys.argv[1]), int(sys.argv[2])
rate = lambda line: float(dict(kv.split("=") for kv in line.split())["per_second"])
limit = raw * cores
print(f"  raw issuance limit: {raw:,.0f}/s per core x {cores} cores = {limit:,.0f}/s")
for name, line in (("concurrency 1", sys.argv[3]), ("concurrency 16", sys.argv[4])):
    print(f"  {name}: {rate(line):,.1f} enrollments/s = {rate(line) / limit:.3f} of the raw limit")
PY
