#!/usr/bin/env bash
# SCEP load benchmark: Certwright's SCEP server (`ca-admin serve`, release build, the
# demo endpoint /scep/default) and micromdm's `scepserver` (Debian's `scep` package),
# in one run, driven by the same client workload: the real client, micromdm `scepclient`,
# run as N concurrent worker loops (concurrency 1 and 16), each enrolling M times.
#
# For each server and concurrency it prints one table row: verified enrollments, failures,
# hung and lost enrollments, duplicate serials, enrollments per second (verified / wall
# time), p50 / p99 latency per enrollment (the wall time of one scepclient process), the
# server process's CPU time per enrollment (utime + stime from /proc/<pid>/stat before and
# after, divided by the verified enrollments) and the clients' CPU time per enrollment.
# Then the ratios: server CPU per enrollment against the cost of the RSA private-key
# operations an enrollment needs (one RSA-2048 PKCS#1 v1.5 decryption of the content key
# plus one RSA-2048 signature of the CertRep), measured in the same run with
# `openssl speed rsa2048`; and Certwright's enrollments/s over scepserver's at 16.
# Nothing here asserts a figure: they are reported, and the script exits 0 whatever they are.
#
#   scripts/bench-scep.sh
#   C1_ENROLLMENTS=100 C16_PER_WORKER=30 scripts/bench-scep.sh
#
# Settings (environment): C1_ENROLLMENTS (enrollments at concurrency 1, default 50),
# C16_WORKERS (16), C16_PER_WORKER (enrollments per worker at 16, 20), WARMUP (unmeasured
# sequential enrollments per server before the runs, also reported as the time of a single
# scepclient run, 3), PEER_TIMEOUT (seconds one scepclient may take before it is killed and
# counted as hung, 30), RUN_LIMIT (seconds after which a run starts no more enrollments;
# those not started are counted as lost, 90), SPEED_SECONDS (openssl speed, 2),
# KEY_CACHE (the pre-generated device keys, default <target>/bench-scep/keys),
# SKIP_BUILD=1 uses the ca-admin already built (<target>/release/ca-admin; the target
# directory is CARGO_TARGET_DIR or ./target), KEEP=1 keeps the work directory
# (scepclient logs, certificates, server logs).
#
# The client workload, and why:
# - Device keys are RSA-2048, generated BEFORE the timed runs (openssl genrsa, in
#   parallel, PKCS#1 PEM as scepclient wants it) and cached in KEY_CACHE for the next run:
#   key generation is the device's cost, not the server's, and would swamp the figures.
#   `-private-key` pointing at an existing key makes scepclient skip key generation.
# - Every enrollment has its OWN key. scepclient derives the SCEP transactionID from the
#   key (base64 SHA-1 of the public key), so a second enrollment with the same key is a
#   repeat of the same transaction: Certwright answers it with the certificate it already
#   issued (RFC 8894 §3.3.3), which would measure a lookup, not an enrollment. Keys are
#   reused only across servers (each has its own fresh CA and transaction store).
# - Every enrollment runs in its own directory (scepclient writes csr.pem and self.pem
#   next to the key and re-reads an existing csr.pem) with a fresh certificate path (an
#   existing -certificate makes it renew) and its own CN (scepserver refuses a second
#   valid certificate for a CN).
# - Certwright's demo CAs are P-256: scepclient gets `-ca-fingerprint` = SHA-256 of the
#   RA certificate (subject CN=default SCEP RA, from GetCACert); without it scepclient
#   tries to encrypt to the EC CA certificates as well and panics. scepserver's CA is
#   RSA-2048 (`scepserver ca -init -keySize 2048`), the only certificate it sends.
# - An enrollment counts as done only if scepclient exited 0 and logged pkiStatus=SUCCESS
#   and its certificate file parses (openssl x509) and holds the enrollment's public key.
#   fail = scepclient exited with an error; hung = killed after PEER_TIMEOUT;
#   lost = planned - done (fail + hung + "success" without a valid certificate + not
#   started before RUN_LIMIT); dup = done certificates that repeat a serial number the
#   same server already gave another certificate (earlier, or in the same run).
#
# What the two servers do differently, by design:
# - Certwright commits the transaction and the certificate durably (redb, fsync) before
#   it answers; its RA key (RSA-2048) decrypts and signs the CertRep, the P-256 issuing
#   CA signs the certificate. scepserver writes the certificate into its file depot; its
#   RSA-2048 CA key decrypts, signs the certificate and signs the CertRep.
# - The clients run on the same cores as the servers: with 16 concurrent scepclient
#   processes, their own CPU time (reported) bounds what any server can reach here.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

C1_ENROLLMENTS=${C1_ENROLLMENTS:-50}
C16_WORKERS=${C16_WORKERS:-16}
C16_PER_WORKER=${C16_PER_WORKER:-20}
WARMUP=${WARMUP:-3}
PEER_TIMEOUT=${PEER_TIMEOUT:-30}
RUN_LIMIT=${RUN_LIMIT:-90}
SPEED_SECONDS=${SPEED_SECONDS:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
KEY_CACHE=${KEY_CACHE:-$TARGET_DIR/bench-scep/keys}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-scep: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------
need_apt=()
command -v scepclient >/dev/null 2>&1 || need_apt+=(scep)
command -v scepserver >/dev/null 2>&1 || need_apt+=(scep)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
SCEP_VERSION=$(dpkg-query -W -f='${Version}' scep 2>/dev/null || echo unknown)

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building ca-admin (release)"
  cargo build --release -p ca-admin --bin ca-admin
fi
CA_ADMIN="$TARGET_DIR/release/ca-admin"
[ -x "$CA_ADMIN" ] || die "no $CA_ADMIN after the build"

# --- processes: started here, stopped here, each by its own pid ----------------------
WORK=$(mktemp -d /tmp/bench-scep.XXXXXX)
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
    kill -0 "$pid" 2>/dev/null || die "$what exited while starting (logs in $WORK; KEEP=1 keeps them)"
    [ $SECONDS -lt $deadline ] || die "$what did not start within ${seconds}s"
    sleep 0.2
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# utime + stime of a process in clock ticks (field 14 + 15 of /proc/<pid>/stat; the
# command name in field 2 is skipped up to its closing parenthesis).
proc_cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  rest=${stat##*") "}
  # shellcheck disable=SC2086
  set -- $rest
  echo $(( ${12} + ${13} ))
}
CLK_TCK=$(getconf CLK_TCK)

# --- the device keys (before any timing) ---------------------------------------------
KEYS_NEEDED=$((WARMUP + C1_ENROLLMENTS + C16_WORKERS * C16_PER_WORKER))
mkdir -p "$KEY_CACHE"
missing=()
for ((i = 1; i <= KEYS_NEEDED; i++)); do
  k=$(printf '%05d' "$i")
  [ -s "$KEY_CACHE/$k.pem" ] && [ -s "$KEY_CACHE/$k.mod" ] || missing+=("$k")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "generating ${#missing[@]} RSA-2048 device keys into $KEY_CACHE (cached for the next runs)"
  printf '%s\n' "${missing[@]}" | xargs -P "$(nproc)" -I{} sh -c '
    openssl genrsa -traditional -out "$1/$2.pem.tmp" 2048 2>/dev/null &&
    openssl rsa -in "$1/$2.pem.tmp" -noout -modulus >"$1/$2.mod.tmp" 2>/dev/null &&
    mv "$1/$2.mod.tmp" "$1/$2.mod" && mv "$1/$2.pem.tmp" "$1/$2.pem"' _ "$KEY_CACHE" {}
fi
say "$KEYS_NEEDED device keys ready in $KEY_CACHE"
key_path() { printf '%s/%05d.pem' "$KEY_CACHE" "$1"; }

# --- the reference: RSA-2048 private-key operations (openssl, same machine, same run) --
say "openssl speed -seconds $SPEED_SECONDS rsa2048"
SPEED_LINE=$(openssl speed -seconds "$SPEED_SECONDS" rsa2048 2>/dev/null | grep -E '^rsa +2048 bits' | tail -1)
[ -n "$SPEED_LINE" ] || die "openssl speed printed no rsa 2048 line"
SIGN_PER_S=$(awk '{ print $(NF-1) }' <<<"$SPEED_LINE")
# OpenSSL 3.0's `speed` times no RSA decryption; a PKCS#1 v1.5 decryption is the same
# private-key operation (CRT exponentiation with blinding) as a signature.
DECRYPT_PER_S=$SIGN_PER_S
REF_MS=$(awk -v s="$SIGN_PER_S" -v d="$DECRYPT_PER_S" 'BEGIN { printf "%.4f", 1000 / s + 1000 / d }')

# --- scepserver ----------------------------------------------------------------------
MM_DIR="$WORK/scepserver"
mkdir -p "$MM_DIR"
MM_PORT=${SCEPSERVER_PORT:-$(free_port)}
port_open "$MM_PORT" && die "127.0.0.1:$MM_PORT is already in use; set SCEPSERVER_PORT"
MM_CHALLENGE=$(openssl rand -hex 16)
say "starting scepserver $SCEP_VERSION (http://127.0.0.1:$MM_PORT/scep, RSA-2048 CA)"
(cd "$MM_DIR" && scepserver ca -init -depot depot -keySize 2048 >ca-init.log 2>&1) \
  || { cat "$MM_DIR/ca-init.log" >&2; die "scepserver ca -init failed"; }
(cd "$MM_DIR" && exec scepserver -depot depot -port "$MM_PORT" -challenge "$MM_CHALLENGE" \
  >scepserver.log 2>&1) &
MM_PID=$!
PIDS+=("$MM_PID")
MM_URL="http://127.0.0.1:$MM_PORT/scep"
wait_for 30 "$MM_PID" scepserver curl -fsS -o /dev/null "$MM_URL?operation=GetCACaps"

# --- Certwright ----------------------------------------------------------------------
CW_DIR="$WORK/certwright"
mkdir -p "$CW_DIR"
say "starting ca-admin serve (demo data directory in $CW_DIR)"
"$CA_ADMIN" serve --data-dir "$CW_DIR/ca-data" --http-listen 127.0.0.1:0 \
  --https-listen 127.0.0.1:0 >"$CW_DIR/serve.log" 2>"$CW_DIR/serve.err" &
CW_PID=$!
PIDS+=("$CW_PID")
wait_for 120 "$CW_PID" "ca-admin serve" grep -qx 'Ready.' "$CW_DIR/serve.log"
CW_CHALLENGE=$(sed -nE 's/^  SCEP challenge  ([^ ]+)$/\1/p' "$CW_DIR/serve.log" | head -1)
CW_BASE=$(sed -nE 's/^  listening +(http:[^ ]+)$/\1/p' "$CW_DIR/serve.log" | head -1)
[ -n "$CW_CHALLENGE" ] || die "no 'SCEP challenge' line on the banner ($CW_DIR/serve.log)"
[ -n "$CW_BASE" ] || die "no 'listening' line on the banner ($CW_DIR/serve.log)"
CW_URL="$CW_BASE/scep/default"
curl -fsS "$CW_URL?operation=GetCACert" -o "$CW_DIR/getcacert.p7" \
  || die "GetCACert failed at $CW_URL"
openssl pkcs7 -inform DER -in "$CW_DIR/getcacert.p7" -print_certs -out "$CW_DIR/getcacert.pem"
awk '/^subject=/ { ra = ($0 ~ /CN *= *default SCEP RA/) }
     ra && /-----BEGIN CERTIFICATE-----/ { on = 1 }
     on { print }
     on && /-----END CERTIFICATE-----/ { exit }' "$CW_DIR/getcacert.pem" >"$CW_DIR/ra.pem"
CW_FINGERPRINT=$(openssl x509 -in "$CW_DIR/ra.pem" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
[ -s "$CW_DIR/ra.pem" ] || die "no 'CN=default SCEP RA' certificate in GetCACert"

# --- the client workload -------------------------------------------------------------
# Per server: URL, challenge, extra scepclient arguments, pid.
server_setup() { # SERVER
  case $1 in
    certwright) URL=$CW_URL CHALLENGE=$CW_CHALLENGE PID=$CW_PID EXTRA=(-ca-fingerprint "$CW_FINGERPRINT") ;;
    scepserver) URL=$MM_URL CHALLENGE=$MM_CHALLENGE PID=$MM_PID EXTRA=() ;;
  esac
}

# Lays out one enrollment per directory (not timed): the key as a symlink, no certificate.
prepare() { # RUN-DIR WORKERS PER-WORKER FIRST-KEY
  local run=$1 workers=$2 per=$3 first=$4 w j
  for ((w = 1; w <= workers; w++)); do
    for ((j = 1; j <= per; j++)); do
      mkdir -p "$run/w$w/e$j"
      ln -s "$(key_path $((first + (w - 1) * per + j - 1)))" "$run/w$w/e$j/key.pem"
    done
  done
}

# One worker loop: PER enrollments in a row; one line "j rc microseconds" each, then the
# CPU time (ticks) of every process it ran (cutime + cstime of this subshell).
worker() { # WORKER-DIR PER CN-PREFIX DEADLINE
  set +e
  local dir=$1 per=$2 cn=$3 deadline=$4 j rc start end stat rest
  for ((j = 1; j <= per; j++)); do
    if ((EPOCHSECONDS >= deadline)); then
      echo "$j skipped 0" >>"$dir/results"
      continue
    fi
    start=$EPOCHREALTIME
    timeout -k 2 "$PEER_TIMEOUT" scepclient -server-url "$URL" -challenge "$CHALLENGE" \
      "${EXTRA[@]}" -private-key "$dir/e$j/key.pem" -certificate "$dir/e$j/cert.pem" \
      -cn "$cn-e$j" >"$dir/e$j/log" 2>&1
    rc=$?
    end=$EPOCHREALTIME
    echo "$j $rc $(( ${end//[.,]/} - ${start//[.,]/} ))" >>"$dir/results"
  done
  stat=$(<"/proc/$BASHPID/stat")
  rest=${stat##*") "}
  set -- $rest
  echo $(( ${14} + ${15} )) >"$dir/client_ticks"
}

# Verifies one run's enrollments; prints "done fail hung lost" and appends
# "serial issuer" of each good certificate to the server's serial list.
verify_run() { # RUN-DIR SERVER
  local run=$1 server=$2 ok=0 fail=0 hung=0 lost=0 w j rc us d idx mod
  : >"$run/latencies"
  : >"$run/errors"
  for d in "$run"/w*; do
    while read -r j rc us; do
      case $rc in
        skipped) lost=$((lost + 1)); echo "not started before RUN_LIMIT" >>"$run/errors"; continue ;;
        124|137) hung=$((hung + 1)); lost=$((lost + 1))
                 echo "hung: killed after ${PEER_TIMEOUT}s: $(tail -1 "$d/e$j/log")" >>"$run/errors"; continue ;;
        0) ;;
        *) fail=$((fail + 1)); lost=$((lost + 1))
           echo "exit $rc: $(tail -1 "$d/e$j/log")" >>"$run/errors"; continue ;;
      esac
      idx=$(basename "$(readlink "$d/e$j/key.pem")" .pem)
      if grep -q 'pkiStatus=SUCCESS' "$d/e$j/log" \
        && out=$(openssl x509 -in "$d/e$j/cert.pem" -noout -serial -issuer -modulus 2>/dev/null) \
        && mod=$(grep '^Modulus=' <<<"$out") && [ "$mod" = "$(<"$KEY_CACHE/$idx.mod")" ]; then
        ok=$((ok + 1))
        echo "$us" >>"$run/latencies"
        echo "$(grep '^serial=' <<<"$out") $(grep '^issuer=' <<<"$out")" >>"$WORK/$server/serials"
        echo "$(grep '^serial=' <<<"$out") $(grep '^issuer=' <<<"$out")" >>"$run/serials"
      else
        lost=$((lost + 1))
        echo "exit 0 without a valid certificate of its key: $(tail -1 "$d/e$j/log")" >>"$run/errors"
      fi
    done <"$d/results"
  done
  echo "$ok $fail $hung $lost"
}

percentile() { # FILE Q: nearest rank, microseconds in, milliseconds out
  sort -n "$1" | awk -v q="$2" '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1
    printf "%.1f", v[r] / 1000 }'
}

RESULTS_DIR="$TARGET_DIR/bench-scep"
mkdir -p "$RESULTS_DIR"
RESULTS="$RESULTS_DIR/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: >"$RESULTS"

# One measured run: WORKERS loops of PER enrollments, keys from FIRST on.
run_load() { # SERVER CONCURRENCY WORKERS PER FIRST-KEY
  local server=$1 c=$2 workers=$3 per=$4 first=$5 run cpu0 cpu1 t0 t1 w deadline
  server_setup "$server"
  run="$WORK/$server/c$c"
  prepare "$run" "$workers" "$per" "$first"
  cp "$WORK/$server/serials" "$WORK/$server/before-c$c.serials" 2>/dev/null || : >"$WORK/$server/before-c$c.serials"
  say "$server: concurrency $c, $workers x $per enrollments"
  local pids=()
  deadline=$((EPOCHSECONDS + RUN_LIMIT))
  cpu0=$(proc_cpu_ticks "$PID")
  t0=$EPOCHREALTIME
  for ((w = 1; w <= workers; w++)); do
    worker "$run/w$w" "$per" "bench-$server-c$c-w$w" "$deadline" &
    pids+=($!)
  done
  for w in "${pids[@]}"; do wait "$w" || true; done
  t1=$EPOCHREALTIME
  if kill -0 "$PID" 2>/dev/null; then cpu1=$(proc_cpu_ticks "$PID"); else cpu1=""; fi
  local ok fail hung lost
  read -r ok fail hung lost < <(verify_run "$run" "$server")
  local client_ticks=0 t
  for w in "$run"/w*/client_ticks; do t=$(<"$w"); client_ticks=$((client_ticks + t)); done
  local planned=$((workers * per))
  local us=$(( ${t1//[.,]/} - ${t0//[.,]/} ))
  local p50 p99 line
  p50=$(percentile "$run/latencies" 0.50)
  p99=$(percentile "$run/latencies" 0.99)
  line=$(awk -v s="$server" -v c="$c" -v planned="$planned" -v ok="$ok" -v fail="$fail" \
    -v hung="$hung" -v lost="$lost" -v us="$us" -v cpu0="$cpu0" -v cpu1="$cpu1" \
    -v cli="$client_ticks" -v tck="$CLK_TCK" -v p50="$p50" -v p99="$p99" 'BEGIN {
      secs = us / 1e6
      rate = (secs > 0) ? ok / secs : 0
      srv = (cpu1 == "") ? "\"exited\"" : (ok > 0 ? sprintf("%.2f", (cpu1 - cpu0) * 1000 / tck / ok) : "null")
      clim = (ok > 0) ? sprintf("%.2f", cli * 1000 / tck / ok) : "null"
      printf "{\"server\":\"%s\",\"concurrency\":%d,\"planned\":%d,\"done\":%d,\"failed\":%d,\"hung\":%d,\"lost\":%d,", s, c, planned, ok, fail, hung, lost
      printf "\"seconds\":%.3f,\"enrollments_per_sec\":%.2f,\"p50_ms\":\"%s\",\"p99_ms\":\"%s\",", secs, rate, p50, p99
      printf "\"server_cpu_ms_per_enrollment\":%s,\"client_cpu_ms_per_enrollment\":%s}\n", srv, clim
    }')
  echo "$line" >>"$RESULTS"
  echo "$line" >&2
  if [ -s "$run/errors" ]; then
    say "$server c=$c: what the unsuccessful enrollments said (count, last log line):"
    sort "$run/errors" | uniq -c | sort -rn | head -8 | sed 's/^/    /' >&2
    if [ "$server" = certwright ]; then
      say "certwright: the server's log (last 10 lines of $CW_DIR/serve.err)"
      tail -10 "$CW_DIR/serve.err" | sed 's/^/    /' >&2
    else
      say "scepserver: its errors (count, message; from $MM_DIR/scepserver.log)"
      grep -oE 'err(or)?="[^"]*"' "$MM_DIR/scepserver.log" | grep -v 'error=null' \
        | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' >&2 || true
    fi
  fi
}

# Warm-up: sequential single enrollments, unmeasured but timed (one scepclient run).
warmup() { # SERVER
  local server=$1 run
  server_setup "$server"
  run="$WORK/$server/warmup"
  prepare "$run" 1 "$WARMUP" 1
  (worker "$run/w1" "$WARMUP" "bench-$server-warmup" $((EPOCHSECONDS + RUN_LIMIT)))
  local r
  r=$(verify_run "$run" "$server")
  [ "${r%% *}" = "$WARMUP" ] || {
    say "$server: warm-up enrollments did not all succeed:"
    sort "$run/errors" | uniq -c | sed 's/^/    /' >&2
  }
}
single_run_ms() { # SERVER: the median scepclient run of the warm-up
  percentile "$WORK/$1/warmup/latencies" 0.50
}

for server in scepserver certwright; do
  say "$server: $WARMUP warm-up enrollments"
  warmup "$server"
done

# Process start-up alone: `scepclient -version` (exec, Go runtime start, flag parsing).
: >"$WORK/version-times"
for ((i = 0; i < 10; i++)); do
  start=$EPOCHREALTIME
  scepclient -version >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo $(( ${end//[.,]/} - ${start//[.,]/} )) >>"$WORK/version-times"
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
FIRST_C1=$((WARMUP + 1))
FIRST_C16=$((WARMUP + C1_ENROLLMENTS + 1))
for server in scepserver certwright; do
  run_load "$server" 1 1 "$C1_ENROLLMENTS" "$FIRST_C1"
done
for server in scepserver certwright; do
  run_load "$server" 16 "$C16_WORKERS" "$C16_PER_WORKER" "$FIRST_C16"
done

# Certificates of a run that repeat a serial the server already issued: to an earlier
# certificate (warm-up, an earlier run) or to another certificate of the same run (all but
# the first of such a group).
dups() { # SERVER CONCURRENCY
  local run="$WORK/$1/c$2/serials"
  [ -s "$run" ] || { echo 0; return; }
  awk 'FILENAME == ARGV[1] { earlier[$0] = 1; next }
       { if (($0 in earlier) || ($0 in seen)) d++; seen[$0] = 1 }
       END { print d + 0 }' "$WORK/$1/before-c$2.serials" "$run"
}

# --- the table -----------------------------------------------------------------------
field() { # JSON-LINE KEY
  sed -nE "s/.*\"$2\":\"?([^,\"}]*)\"?.*/\1/p" <<<"$1"
}
result() { grep "\"server\":\"$1\"" "$RESULTS" | grep "\"concurrency\":$2," || true; }

echo
echo "SCEP load: Certwright $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (ca-admin serve, demo endpoint, durable redb)" \
  "vs micromdm scepserver $SCEP_VERSION (file depot); client: micromdm scepclient, one pre-generated RSA-2048 key per enrollment;" \
  "$(nproc) cores shared by servers and clients; CPU = the server process's utime+stime;" \
  "load average before the runs: $LOAD_BEFORE"
printf '%-10s %3s %7s %5s %4s %4s %4s %4s %7s %8s %7s %7s %12s %12s\n' \
  server c planned done fail hung lost dup seconds enr/s p50_ms p99_ms srv_cpu_ms/e cli_cpu_ms/e
for c in 1 16; do
  for server in scepserver certwright; do
    line=$(result "$server" "$c")
    if [ -z "$line" ]; then
      printf '%-10s %3s %s\n' "$server" "$c" "NOT RUN"
      continue
    fi
    printf '%-10s %3s %7s %5s %4s %4s %4s %4s %7s %8s %7s %7s %12s %12s\n' "$server" "$c" \
      "$(field "$line" planned)" "$(field "$line" done)" "$(field "$line" failed)" \
      "$(field "$line" hung)" "$(field "$line" lost)" "$(dups "$server" "$c")" \
      "$(field "$line" seconds)" "$(field "$line" enrollments_per_sec)" \
      "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" \
      "$(field "$line" server_cpu_ms_per_enrollment)" "$(field "$line" client_cpu_ms_per_enrollment)"
  done
done
echo
echo "Single scepclient run (median of $WARMUP sequential warm-up enrollments): scepserver $(single_run_ms scepserver) ms," \
  "certwright $(single_run_ms certwright) ms; scepclient -version alone (process start-up): $(percentile "$WORK/version-times" 0.50) ms"
echo "Reference (openssl speed rsa2048, $SPEED_SECONDS s): RSA-2048 sign $SIGN_PER_S/s; PKCS#1 v1.5 decryption taken as the" \
  "same private-key operation ($DECRYPT_PER_S/s); one decryption + one signature = $REF_MS ms"
echo "Ratios (goals: Certwright server CPU per enrollment / reference <= 1.3; Certwright enrollments/s / scepserver's at c=16 >= 5; Certwright lost = 0):"
for c in 1 16; do
  for server in certwright scepserver; do
    line=$(result "$server" "$c")
    cpu=$(field "$line" server_cpu_ms_per_enrollment)
    awk -v c="$c" -v s="$server" -v cpu="$cpu" -v ref="$REF_MS" 'BEGIN {
      r = (cpu ~ /^[0-9.]+$/ && ref > 0) ? sprintf("%.2f", cpu / ref) : "n/a"
      printf "  c=%-2s %-10s server CPU per enrollment / reference %s (%s / %s ms)\n", c, s, r, cpu, ref }'
  done
done
w=$(result certwright 16); m=$(result scepserver 16)
awk -v wr="$(field "$w" enrollments_per_sec)" -v mr="$(field "$m" enrollments_per_sec)" \
  -v wl1="$(field "$(result certwright 1)" lost)" -v wl16="$(field "$w" lost)" 'BEGIN {
    r = (mr > 0) ? sprintf("%.2f", wr / mr) : "n/a"
    printf "  c=16 enrollments/s Certwright / scepserver %s (%s / %s)\n", r, wr, mr
    printf "  Certwright lost: %s at c=1, %s at c=16\n", wl1, wl16 }'
# What the machine allows at c=16: its cores over the CPU one enrollment takes (server +
# clients), and the same with a server that costs nothing (the clients alone).
awk -v n="$(nproc)" -v ws="$(field "$w" server_cpu_ms_per_enrollment)" -v wc="$(field "$w" client_cpu_ms_per_enrollment)" \
  -v ms="$(field "$m" server_cpu_ms_per_enrollment)" -v mc="$(field "$m" client_cpu_ms_per_enrollment)" 'BEGIN {
    cw = (ws + wc > 0) ? sprintf("%.0f", n * 1000 / (ws + wc)) : "n/a"
    mm = (ms + mc > 0) ? sprintf("%.0f", n * 1000 / (ms + mc)) : "n/a"
    free = (wc > 0) ? sprintf("%.0f", n * 1000 / wc) : "n/a"
    printf "  c=16 CPU bound on %d cores, cores / (server + client CPU per enrollment): certwright %s/s, scepserver %s/s; clients alone: %s/s\n", n, cw, mm, free }'
echo
echo "JSON lines: $RESULTS"
exit 0
