#!/usr/bin/env bash
# ACME load benchmark: Certwright's ACME server (`ca-admin serve`, release build)
# and Let's Encrypt's Pebble test server (Debian's `pebble`), in one run, driven by the
# same load driver (tests/src/bin/acme-load.rs: instant-acme, one account, complete
# orders over http-01 answered by its own in-process responder) at concurrency 1 and 16.
#
# For each server and concurrency it prints the driver's JSON line, then one table:
# complete orders per second, p50 / p99 latency per order, and the server process's CPU
# time per order (utime + stime from /proc/<pid>/stat), with the ratios Certwright / Pebble.
# Nothing here asserts a time: the figures are reported, not checked.
#
#   scripts/bench-acme.sh
#   ORDERS_C1=300 ORDERS_C16=1000 WARMUP=20 scripts/bench-acme.sh
#
# Settings (environment): ORDERS_C1 (default 300), ORDERS_C16 (1000), WARMUP (unmeasured
# orders before each measured run, 20), POLL_MS (the driver's first order-poll delay, 10),
# RUN_LIMIT (seconds one driver run may take; then it is killed and reported as hung, 600),
# SKIP_BUILD=1 uses the binaries already built, KEEP=1 keeps the work directory (logs, data),
# and the loopback ports below.
#
# What the two servers do differently, by design:
# - Certwright commits every state change with an fsync (redb, group commit) before it
#   answers, and validates each challenge for real: it resolves the name through the
#   DNS resolver configured here and fetches http://<name>:<port>/.well-known/...
# - Pebble keeps everything in memory. It runs with PEBBLE_VA_NOSLEEP=1 (no random
#   sleep before validation), PEBBLE_WFE_NONCEREJECT=0 (no injected badNonce) and
#   PEBBLE_AUTHZREUSE=0 (every order is validated; the names are unique anyway).
# - Both resolve the order names through one pebble-challtestsrv DNS server (from the
#   same package) that answers every A query with 127.0.0.1 and no AAAA; neither server
#   is charged for it.
# - Certwright's ACME rate limits are raised to 1,000,000 per hour here so that the
#   benchmark is not rate-limited (its defaults are 300 orders per account per hour).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ORDERS_C1=${ORDERS_C1:-300}
ORDERS_C16=${ORDERS_C16:-1000}
WARMUP=${WARMUP:-20}
POLL_MS=${POLL_MS:-10}
RUN_LIMIT=${RUN_LIMIT:-600}
PEBBLE_PORT=${PEBBLE_PORT:-14000}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15000}
DNS_PORT=${DNS_PORT:-8053}
DNS_MGMT_PORT=${DNS_MGMT_PORT:-8055}
HTTP01_PORT=${HTTP01_PORT:-5002}
TLS_ALPN_PORT=${TLS_ALPN_PORT:-5001}
CW_HTTP_PORT=${CW_HTTP_PORT:-18080}
CW_HTTPS_PORT=${CW_HTTPS_PORT:-18443}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-acme: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------
need_apt=()
command -v pebble >/dev/null 2>&1 || need_apt+=(pebble)
command -v pebble-challtestsrv >/dev/null 2>&1 || need_apt+=(pebble)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
PEBBLE_VERSION=$(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo unknown)

for port in "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$DNS_PORT" "$DNS_MGMT_PORT" "$HTTP01_PORT" \
  "$TLS_ALPN_PORT" "$CW_HTTP_PORT" "$CW_HTTPS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is already in use; set the *_PORT variables (see the header)"
  fi
done

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building ca-admin and acme-load (release)"
  cargo build --release -p ca-admin --bin ca-admin -p certwright-tests --bin acme-load
fi
CA_ADMIN="$ROOT/target/release/ca-admin"
LOAD="$ROOT/target/release/acme-load"

# --- processes: started here, stopped here, each by its own pid ----------------------
WORK=$(mktemp -d /tmp/bench-acme.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    echo "work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# Waits until a command succeeds, at most $1 seconds, while process $2 lives.
wait_for() {
  local seconds=$1 pid=$2 what=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$what exited while starting"
    [ $SECONDS -lt $deadline ] || die "$what did not start within ${seconds}s"
    sleep 0.2
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The DNS both servers ask: every A query is 127.0.0.1, no AAAA; its own challenge
# responders are off (the driver answers http-01 itself).
say "starting pebble-challtestsrv (DNS on 127.0.0.1:$DNS_PORT)"
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
  -dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
  -management "127.0.0.1:$DNS_MGMT_PORT" >"$WORK/challtestsrv.log" 2>&1 &
DNS_PID=$!
PIDS+=("$DNS_PID")
wait_for 30 "$DNS_PID" pebble-challtestsrv port_open "$DNS_PORT"

# Pebble's own HTTPS listener needs a certificate; Debian's package ships none of the
# upstream test certificates, so make a throw-away root and a localhost certificate.
say "starting pebble $PEBBLE_VERSION (https://127.0.0.1:$PEBBLE_PORT/dir)"
mkdir -p "$WORK/pebble"
(
  cd "$WORK/pebble"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout root.key -out root.pem -days 2 -subj "/CN=bench-acme Pebble listener root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout key.pem -out leaf.csr -subj "/CN=localhost"
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >leaf.ext
  openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 \
    -out cert.pem -extfile leaf.ext
) >"$WORK/pebble/openssl.log" 2>&1 || { cat "$WORK/pebble/openssl.log" >&2; die "openssl failed"; }
cat >"$WORK/pebble/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$WORK/pebble/cert.pem",
    "privateKey": "$WORK/pebble/key.pem",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $TLS_ALPN_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
  pebble -config "$WORK/pebble/pebble-config.json" -dnsserver "127.0.0.1:$DNS_PORT" \
  >"$WORK/pebble/pebble.log" 2>&1 &
PEBBLE_PID=$!
PIDS+=("$PEBBLE_PID")
PEBBLE_DIRECTORY="https://127.0.0.1:$PEBBLE_PORT/dir"
wait_for 30 "$PEBBLE_PID" pebble curl -fsS --cacert "$WORK/pebble/root.pem" "$PEBBLE_DIRECTORY"

# Certwright: the demo start (a fresh data directory), then its [acme] section replaced.
CW_DIR="$WORK/certwright"
CW_DATA="$CW_DIR/ca-data"
mkdir -p "$CW_DIR"
start_certwright() { # LOG
  "$CA_ADMIN" serve --data-dir "$CW_DATA" --http-listen "127.0.0.1:$CW_HTTP_PORT" \
    --https-listen "127.0.0.1:$CW_HTTPS_PORT" >"$1" 2>"$1.err" &
  CW_PID=$!
  PIDS+=("$CW_PID")
  wait_for 120 "$CW_PID" "ca-admin serve" grep -qx 'Ready.' "$1"
}
stop_certwright() {
  kill -TERM "$CW_PID"
  wait "$CW_PID" 2>/dev/null || true
  PIDS=("${PIDS[@]/#$CW_PID}")
}
say "creating the Certwright demo data directory"
start_certwright "$CW_DIR/first-start.log"
stop_certwright
CONFIG="$CW_DATA/certwright.toml"
[ -f "$CONFIG" ] || die "the demo start wrote no $CONFIG"
awk '/^\[/ { skip = ($0 ~ /^\[acme[].]/) } !skip' "$CONFIG" >"$CONFIG.new"
cat >>"$CONFIG.new" <<EOF
[acme]

[acme.validation]
# Every order name is looked up here (pebble-challtestsrv: 127.0.0.1 for any name),
# and http-01 connects to the driver's responder.
dns_resolver = "127.0.0.1:$DNS_PORT"
http_port = $HTTP01_PORT
tls_alpn_port = $TLS_ALPN_PORT

# Raised for the benchmark (defaults: 300 / 3000 / 300 per hour).
[acme.rate_limits]
new_orders_per_account_per_hour = 1000000
new_orders_per_endpoint_per_hour = 1000000
new_accounts_per_endpoint_per_hour = 1000000
EOF
mv "$CONFIG.new" "$CONFIG"
say "starting ca-admin serve (https://127.0.0.1:$CW_HTTPS_PORT/acme/default/directory)"
start_certwright "$CW_DIR/serve.log"
CW_DIRECTORY="https://127.0.0.1:$CW_HTTPS_PORT/acme/default/directory"
curl -fsS "http://127.0.0.1:$CW_HTTP_PORT/ca/demo-root.pem" -o "$CW_DIR/root.pem"
curl -fsS --cacert "$CW_DIR/root.pem" "$CW_DIRECTORY" >/dev/null \
  || die "no ACME directory at $CW_DIRECTORY"

# --- the runs ------------------------------------------------------------------------
RESULTS_DIR="$ROOT/target/bench-acme"
mkdir -p "$RESULTS_DIR"
RESULTS="$RESULTS_DIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: >"$RESULTS"

run_load() { # SERVER CONCURRENCY ORDERS
  local server=$1 c=$2 n=$3 directory root pid
  case $server in
    pebble) directory=$PEBBLE_DIRECTORY root="$WORK/pebble/root.pem" pid=$PEBBLE_PID ;;
    certwright) directory=$CW_DIRECTORY root="$CW_DIR/root.pem" pid=$CW_PID ;;
  esac
  say "$server: concurrency $c, $n orders (+$WARMUP warm-up)"
  local line rc=0
  line=$(timeout -k 5 "$RUN_LIMIT" "$LOAD" --label "$server" --directory "$directory" --root-ca "$root" \
    --server-pid "$pid" --concurrency "$c" --orders "$n" --warmup "$WARMUP" \
    --http01-port "$HTTP01_PORT" --domain-suffix "c$c.test" --poll-initial-ms "$POLL_MS" \
    2>"$WORK/load-$server-c$c.err") || rc=$?
  if [ "$rc" = 0 ]; then
    echo "$line"
    echo "$line" >>"$RESULTS"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    say "$server: concurrency $c: no result within ${RUN_LIMIT}s, the driver was killed (hung)"
    line="{\"server\":\"$server\",\"concurrency\":$c,\"failed\":true,\"hung\":true,\"run_limit_s\":$RUN_LIMIT}"
    echo "$line"
    echo "$line" >>"$RESULTS"
  else
    cat "$WORK/load-$server-c$c.err" >&2
    echo "{\"server\":\"$server\",\"concurrency\":$c,\"failed\":true}" >>"$RESULTS"
  fi
  if [ -s "$WORK/load-$server-c$c.err" ]; then
    sed 's/^/    /' "$WORK/load-$server-c$c.err" | head -20 >&2
  fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for c in 1 16; do
  n=$ORDERS_C1; [ "$c" = 16 ] && n=$ORDERS_C16
  run_load pebble "$c" "$n"
  run_load certwright "$c" "$n"
done

# --- the table -----------------------------------------------------------------------
field() { # JSON-LINE KEY: a number or a string of our own flat JSON line
  sed -nE "s/.*\"$2\":\"?([^,\"}]*)\"?.*/\1/p" <<<"$1"
}
result() { grep "\"server\":\"$1\"" "$RESULTS" | grep "\"concurrency\":$2[,}]" || true; }

echo
echo "ACME load: Certwright $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (ca-admin serve, durable redb)" \
  "vs Pebble $PEBBLE_VERSION (in memory); $(nproc) cores; CPU = the server process's utime+stime;" \
  "load average before the runs: $LOAD_BEFORE (other work on the machine skews orders/s and latency)"
printf '%-11s %3s %7s %6s %8s %9s %8s %8s %14s %14s\n' \
  server c orders errors seconds orders/s p50_ms p99_ms srv_cpu_ms/ord drv_cpu_ms/ord
for c in 1 16; do
  for server in pebble certwright; do
    line=$(result "$server" "$c")
    if grep -q '"hung":true' <<<"$line"; then
      printf '%-11s %3s %s\n' "$server" "$c" "HUNG (no result within ${RUN_LIMIT}s)"
      continue
    elif [ -z "$line" ] || grep -q '"failed":true' <<<"$line"; then
      printf '%-11s %3s %s\n' "$server" "$c" "FAILED (see the driver's errors above)"
      continue
    fi
    printf '%-11s %3s %7s %6s %8s %9s %8s %8s %14s %14s\n' "$server" "$c" \
      "$(field "$line" orders)" "$(field "$line" errors)" "$(field "$line" seconds)" \
      "$(field "$line" orders_per_sec)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" \
      "$(field "$line" server_cpu_ms_per_order)" "$(field "$line" driver_cpu_ms_per_order)"
  done
done
echo
echo "Ratios Certwright / Pebble (goal: server CPU per order <= 0.10, orders/s > 1):"
for c in 1 16; do
  p=$(result pebble "$c"); w=$(result certwright "$c")
  if [ -z "$p" ] || [ -z "$w" ] || grep -q '"failed":true' <<<"$p$w"; then
    echo "  c=$c: n/a (a run failed)"
    continue
  fi
  awk -v c="$c" -v pc="$(field "$p" server_cpu_ms_per_order)" -v wc="$(field "$w" server_cpu_ms_per_order)" \
    -v pr="$(field "$p" orders_per_sec)" -v wr="$(field "$w" orders_per_sec)" 'BEGIN {
      cpu = (pc > 0) ? sprintf("%.3f", wc / pc) : "n/a"
      rate = (pr > 0) ? sprintf("%.2f", wr / pr) : "n/a"
      printf "  c=%-2s server CPU per order %s (%s / %s ms), orders/s %s (%s / %s)\n", c, cpu, wc, pc, rate, wr, pr
    }'
done
echo
echo "JSON lines: $RESULTS"
