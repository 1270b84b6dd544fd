#!/usr/bin/env bash
# OCSP load benchmark: `ca-admin serve` (release build, the demo defaults, a temporary
# data directory, loopback ports picked by the system) answering one nonce-less OCSP GET
# (RFC 5019: `GET /ocsp/<url-escaped base64 of the DER request>`) for one certificate,
# driven by wrk (Debian's `wrk`, installed if missing) at THREADS threads and CONNECTIONS
# kept-alive connections for SECONDS_PER_RUN seconds. It runs twice in one go: with the
# OCSP response cache (the default `[ca] ocsp_cache_entries = 100000`) and without it
# (`ocsp_cache_entries = 0`: every answer signed), then measures the raw P-256 signing
# rate of the same machine (`openssl speed ecdsap256`) once the server has stopped.
#
# For each run: responses/s (wrk's count, checked against the server's own OCSP request
# counter), the server's CPU seconds (utime + stime from /proc/<pid>/stat before and
# after) and per 1000 responses, the driver's CPU seconds (wrk's user + system time) and
# per 1000 responses, and the non-2xx answers; then the ratios cache / no cache. The
# driver shares the machine's cores with the server, which is why its cost is reported.
# Nothing is asserted about the figures.
#
#   scripts/bench-ocsp.sh
#   SECONDS_PER_RUN=30 CONNECTIONS=128 scripts/bench-ocsp.sh
#
# Settings (environment): SECONDS_PER_RUN (10), THREADS (1), CONNECTIONS (64), WARMUP
# (unmeasured seconds of load before each run, 2), SPEED_SECONDS (openssl speed, 2),
# SKIP_BUILD=1, KEEP=1 (keep the work directory: logs, data, wrk output).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2}
SPEED_SECONDS=${SPEED_SECONDS:-2}
TARGET=${CARGO_TARGET_DIR:-target}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-ocsp: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------
need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  timeout 600 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${SKIP_BUILD:-}" != 1 ]; then
  say "building ca-admin (release)"
  cargo build --release -p ca-admin
fi
BIN=$(cd "$TARGET/release" && pwd)/ca-admin
[ -x "$BIN" ] || die "no $BIN"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "work directory: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Starts the gateway in $WORK on loopback port 0 (HTTP and HTTPS); sets SERVER_PID and HTTP_URL.
start_server() {
  # The previous server's output must not pass for this one's "Ready.".
  rm -f "$WORK/serve.out" "$WORK/serve.err"
  (cd "$WORK" && exec "$BIN" serve --http-listen 127.0.0.1:0 --https-listen 127.0.0.1:0 >serve.out 2>serve.err) &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    grep -q '^Ready\.' "$WORK/serve.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  if ! grep -q '^Ready\.' "$WORK/serve.out"; then
    local status=running
    kill -0 "$SERVER_PID" 2>/dev/null || { status=0; wait "$SERVER_PID" || status=$?; SERVER_PID=; }
    cat "$WORK/serve.out" "$WORK/serve.err" >&2
    die "the gateway did not start (exit status: $status)"
  fi
  HTTP_URL=$(awk '$1 == "listening" {print $2}' "$WORK/serve.out")
  [ -n "$HTTP_URL" ] || die "no listening URL in the banner"
}
stop_server() {
  kill "$SERVER_PID"
  timeout 30 tail --pid="$SERVER_PID" -f /dev/null || kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
cpu_ticks() { # utime + stime of a process, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
ocsp_requests() { # the server's OCSP request counter
  curl -sS --max-time 10 "$HTTP_URL/metrics" | awk -F' ' '/^certwright_http_requests_total\{route="ocsp"\}/ {print $2}'
}
TICKS=$(getconf CLK_TCK)

# --- one certificate, one request ----------------------------------------------------
say "creating the demo hierarchy in $WORK"
start_server
stop_server
CONFIG=$WORK/ca-data/certwright.toml
grep -q '^ocsp_cache_entries = ' "$CONFIG" || die "$CONFIG has no ocsp_cache_entries"
ISSUER=$WORK/ca-data/cas/demo-issuing/certificate.pem
CA_ROOT=$WORK/ca-data/cas/demo-root/certificate.pem
(
  cd "$WORK"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout leaf.key -out leaf.csr \
    -subj /CN=bench.demo.test -addext subjectAltName=DNS:bench.demo.test 2>/dev/null
  "$BIN" issue --data-dir ca-data --insecure-plaintext-keys --csr leaf.csr --profile tls-server \
    --format pem --out leaf.pem >/dev/null 2>issue.err
  openssl ocsp -issuer "$ISSUER" -serial "0x$(openssl x509 -in leaf.pem -noout -serial | cut -d= -f2)" \
    -no_nonce -reqout req.der >/dev/null
)
ENCODED=$(base64 -w0 "$WORK/req.der" | sed 's/%/%25/g; s/+/%2B/g; s/\//%2F/g; s/=/%3D/g')

# --- the runs ------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$WORK/results.tsv
: >"$RESULTS"
run_mode() { # name cache_entries
  local name=$1 entries=$2
  sed -i "s/^ocsp_cache_entries = .*/ocsp_cache_entries = $entries/" "$CONFIG"
  start_server
  local url="$HTTP_URL/ocsp/$ENCODED"
  # The answer is a verified, good response with caching headers.
  curl -sS --max-time 10 -D "$WORK/$name.headers" -o "$WORK/$name.der" "$url"
  grep -qi '^cache-control: max-age=' "$WORK/$name.headers" || die "$name: no caching headers"
  (cd "$WORK" && openssl ocsp -respin "$name.der" -CAfile "$CA_ROOT" -issuer "$ISSUER" -cert leaf.pem 2>&1) \
    | grep -q 'leaf.pem: good' || die "$name: the answer is not a verified good response"
  if [ "$WARMUP" -gt 0 ]; then
    timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
  fi
  local before_requests before_ticks after_ticks after_requests
  before_requests=$(ocsp_requests)
  before_ticks=$(cpu_ticks "$SERVER_PID")
  local TIMEFORMAT='%3U %3S'
  { time timeout $((SECONDS_PER_RUN + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" \
      --timeout 10s "$url" >"$WORK/$name.wrk"; } 2>"$WORK/$name.time"
  after_ticks=$(cpu_ticks "$SERVER_PID")
  after_requests=$(ocsp_requests)
  stop_server
  python3 - "$name" "$WORK/$name.wrk" "$WORK/$name.time" "$before_ticks" "$after_ticks" "$TICKS" \
    "$before_requests" "$after_requests" >>"$RESULTS" <<'PY'
import re, sys
name, wrk_out, time_out, t0, t1, ticks, r0, r1 = sys.argv[1:]
text = open(wrk_out).read()
m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", text)
if not m:
    sys.exit(f"{name}: cannot read wrk's output:\n{text}")
scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
responses, seconds = int(m.group(1)), float(m.group(2)) * scale
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
user, system = (float(x) for x in open(time_out).read().split())
server_cpu = (int(t1) - int(t0)) / int(ticks)
print("\t".join(str(x) for x in (
    name, responses, f"{seconds:.2f}", f"{responses / seconds:.0f}", f"{server_cpu:.2f}",
    f"{user + system:.2f}", bad.group(1) if bad else "0", errors.group(1).strip() if errors else "none",
    int(float(r1)) - int(float(r0)))))
PY
}

say "cache on (ocsp_cache_entries = 100000): ${SECONDS_PER_RUN}s, wrk -t$THREADS -c$CONNECTIONS"
run_mode cache 100000
say "cache off (ocsp_cache_entries = 0): ${SECONDS_PER_RUN}s, wrk -t$THREADS -c$CONNECTIONS"
run_mode no-cache 0

say "openssl speed ecdsap256 (${SPEED_SECONDS}s, one core, server stopped)"
SIGN_RATE=$(timeout $((SPEED_SECONDS * 4 + 30)) openssl speed -seconds "$SPEED_SECONDS" ecdsap256 2>/dev/null \
  | awk '/ecdsa \(nistp256\)/ {print $(NF-1)}' | tail -1)

python3 - "$RESULTS" "${SIGN_RATE:-}" "$(nproc)" "$THREADS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$LOAD_BEFORE" <<'PY'
import sys
results, sign_rate, cores, threads, connections, seconds, load = sys.argv[1:]
rows = {}
for line in open(results):
    name, responses, secs, rate, server_cpu, driver_cpu, non2xx, sock, counted = line.rstrip("\n").split("\t")
    rows[name] = dict(responses=int(responses), secs=float(secs), rate=float(rate),
                      server=float(server_cpu), driver=float(driver_cpu), non2xx=int(non2xx),
                      sock=sock, counted=int(counted))
print(f"\nOCSP GET benchmark: {cores} cores, wrk -t{threads} -c{connections}, {seconds} s per run, "
      f"one certificate, one nonce-less request; load average before: {load}\n")
print("| run | responses | responses/s | server CPU s | server CPU s / 1000 resp | wrk CPU s | wrk CPU s / 1000 resp | non-2xx | socket errors | server-counted |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
for name, r in rows.items():
    k = r["responses"] / 1000
    print(f"| {name} | {r['responses']:,} | {r['rate']:,.0f} | {r['server']:.2f} | {r['server'] / k:.4f} | "
          f"{r['driver']:.2f} | {r['driver'] / k:.4f} | {r['non2xx']} | {r['sock']} | {r['counted']:,} |")
if "cache" in rows and "no-cache" in rows:
    c, n = rows["cache"], rows["no-cache"]
    per = lambda r: r["server"] / r["responses"]
    print(f"\n- cache / no cache: {c['rate'] / n['rate']:.2f}x responses/s, "
          f"{per(n) / per(c):.2f}x less server CPU per response")
if sign_rate:
    s = float(sign_rate)
    print(f"- raw P-256 signing (openssl speed, one core): {s:,.0f} signs/s = {1e6 / s:.1f} us per signature; "
          f"no-cache server CPU per response: {1e6 * rows['no-cache']['server'] / rows['no-cache']['responses']:.1f} us, "
          f"cache: {1e6 * rows['cache']['server'] / rows['cache']['responses']:.1f} us")
PY
