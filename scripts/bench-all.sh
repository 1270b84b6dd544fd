#!/usr/bin/env bash
# Every benchmark of the harness in one go, and one report: each figure, its reference
# measured in the same run (the raw crypto limit, Pebble, scepserver, openssl speed, the
# smallest size of the scale run) and the ratio, with the goal.
#
#   scripts/bench-all.sh
#   SCALE_SIZES=10000,100000 BENCHES="bench scale ocsp" scripts/bench-all.sh
#
# It builds once (ca-admin, acme-load, est-load), then runs, each under its own time limit
# (`timeout`, in a session of its own so that whatever a killed benchmark left running is
# stopped too): `ca-admin bench --json`, `ca-admin bench scale --json`, scripts/bench-acme.sh,
# scripts/bench-scep.sh, scripts/bench-est.sh and scripts/bench-ocsp.sh. A benchmark that
# fails or runs out of time is reported as "failed" or "hung (limit N s)" and the next one
# runs. Each one's full output is kept in the work directory (printed at the end), next to
# the report (report.md), which scripts/bench-report.py makes from those outputs.
# Nothing is asserted: the script exits 0 once the report is printed.
#
# The default run takes about 5 minutes on a 2-core machine (the 1M-certificate scale step
# about 1.5 of them; the first SCEP run makes its cached device keys, another minute); the
# default limits add up to 900 s, so it cannot take more than 15 minutes plus the build.
#
# Settings (environment; defaults in brackets):
#   BENCHES            which to run, any of: bench scale acme scep est ocsp [all six]
#   SKIP_BUILD=1       use the binaries already built [build]
#   BENCH_ALL_DIR      the work directory [<target>/bench-all/<UTC time>]
#   BENCH_KEEP=1       keep the benchmarks' own work directories and the scale data directory
#   ca-admin bench:    BENCH_SECONDS [2], BENCH_WRITERS [1,16], BENCH_LIMIT [90]
#   scale:             SCALE_SIZES [10000,100000,1000000], SCALE_SAMPLES [2000], SCALE_LIMIT [300],
#                      SCALE_MAX_MINUTES (the scale run's own --max-minutes, after which it
#                      reports what it measured) [SCALE_LIMIT - 60 s]
#   ACME:              ORDERS_C1 [200], ORDERS_C16 [500], ACME_WARMUP [20],
#                      ACME_RUN_LIMIT (one driver run, e.g. one peer at c=16) [60], ACME_LIMIT [150]
#   SCEP:              C1_ENROLLMENTS [50], C16_WORKERS [16], C16_PER_WORKER [20], SCEP_WARMUP [3],
#                      SCEP_PEER_TIMEOUT (one scepclient) [15], SCEP_RUN_LIMIT (one run) [20],
#                      SCEP_LIMIT [180: the first run also makes the 373 device keys]
#   EST:               EST_C1 [200], EST_C16 [1600], EST_WARMUP [50], EST_BENCH_SECONDS [2], EST_LIMIT [90]
#   OCSP:              OCSP_SECONDS (one wrk run) [10], OCSP_CONNECTIONS [64], OCSP_THREADS [1],
#                      OCSP_WARMUP [2], OCSP_LIMIT [90]
#   SPEED_SECONDS      openssl speed in the SCEP and OCSP benchmarks [2]
# The benchmarks' own ports and settings not named here (e.g. PEBBLE_PORT) pass through.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac

BENCHES=${BENCHES:-bench scale acme scep est ocsp}
BENCH_SECONDS=${BENCH_SECONDS:-2}
BENCH_WRITERS=${BENCH_WRITERS:-1,16}
BENCH_LIMIT=${BENCH_LIMIT:-90}
SCALE_SIZES=${SCALE_SIZES:-10000,100000,1000000}
SCALE_SAMPLES=${SCALE_SAMPLES:-2000}
SCALE_LIMIT=${SCALE_LIMIT:-300}
ORDERS_C1=${ORDERS_C1:-200}
ORDERS_C16=${ORDERS_C16:-500}
ACME_WARMUP=${ACME_WARMUP:-20}
ACME_RUN_LIMIT=${ACME_RUN_LIMIT:-60}
ACME_LIMIT=${ACME_LIMIT:-150}
C1_ENROLLMENTS=${C1_ENROLLMENTS:-50}
C16_WORKERS=${C16_WORKERS:-16}
C16_PER_WORKER=${C16_PER_WORKER:-20}
SCEP_WARMUP=${SCEP_WARMUP:-3}
SCEP_PEER_TIMEOUT=${SCEP_PEER_TIMEOUT:-15}
SCEP_RUN_LIMIT=${SCEP_RUN_LIMIT:-20}
SCEP_LIMIT=${SCEP_LIMIT:-180}
EST_C1=${EST_C1:-200}
EST_C16=${EST_C16:-1600}
EST_WARMUP=${EST_WARMUP:-50}
EST_BENCH_SECONDS=${EST_BENCH_SECONDS:-2}
EST_LIMIT=${EST_LIMIT:-90}
OCSP_SECONDS=${OCSP_SECONDS:-10}
OCSP_CONNECTIONS=${OCSP_CONNECTIONS:-64}
OCSP_THREADS=${OCSP_THREADS:-1}
OCSP_WARMUP=${OCSP_WARMUP:-2}
OCSP_LIMIT=${OCSP_LIMIT:-90}
SPEED_SECONDS=${SPEED_SECONDS:-2}
KEEP_INNER=0
[ "${BENCH_KEEP:-0}" = 1 ] && KEEP_INNER=1
# The scale run stops itself (and reports what it has) a minute before its limit.
if [ -z "${SCALE_MAX_MINUTES:-}" ]; then
  SCALE_MAX_MINUTES=$(awk -v l="$SCALE_LIMIT" 'BEGIN { m = (l > 120) ? (l - 60) / 60 : l / 2 / 60; printf "%.2f", m }')
fi

say() { printf '== [bench-all %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench-all: %s\n' "$*" >&2; exit 1; }

for b in $BENCHES; do
  case $b in bench|scale|acme|scep|est|ocsp) ;; *) die "BENCHES: unknown benchmark '$b' (bench scale acme scep est ocsp)" ;; esac
done
for v in BENCH_LIMIT SCALE_LIMIT ACME_LIMIT SCEP_LIMIT EST_LIMIT OCSP_LIMIT ACME_RUN_LIMIT \
  SCEP_RUN_LIMIT SCEP_PEER_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number of seconds above 0 (got '${!v}')"
done
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the report"
command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is needed"

WORK=${BENCH_ALL_DIR:-$TARGET_DIR/bench-all/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[ -z "$(ls -A "$WORK")" ] || die "$WORK is not empty; give BENCH_ALL_DIR a new or empty directory"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
STARTED=$SECONDS
META=$WORK/meta.txt
{
  echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "cores=$(nproc)"
  echo "mem_total_mb=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "tree=$( [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo clean || echo 'uncommitted changes')"
  echo "load_start=$(loadavg)"
  echo "benches=$BENCHES"
  echo "scale_sizes=$SCALE_SIZES"
  echo "bench_writers=$BENCH_WRITERS"
} >"$META"
RUNS=$WORK/runs.tsv
printf 'name\tstatus\trc\tseconds\tlimit\tload_before\tcommand\n' >"$RUNS"

# --- the build -----------------------------------------------------------------------
BUILD_SECONDS=0
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building ca-admin, acme-load and est-load (release); log: $WORK/build.log"
  t0=$SECONDS
  cargo build --release -p ca-admin --bin ca-admin -p certwright-tests --bin acme-load --bin est-load \
    >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "the build failed"; }
  BUILD_SECONDS=$((SECONDS - t0))
fi
echo "build_seconds=$BUILD_SECONDS" >>"$META"
CA_ADMIN=$TARGET_DIR/release/ca-admin
[ -x "$CA_ADMIN" ] || die "no $CA_ADMIN (run without SKIP_BUILD=1)"

# --- running one benchmark -----------------------------------------------------------
# Each benchmark runs in a session of its own (setsid): when it ends, or is killed at its
# limit, whatever it started that still runs (a load driver under its own `timeout`, a
# peer server) is found by that session id and stopped, by pid, so that it cannot load the
# machine during the next benchmark.
reap_session() { # SID
  local sid=$1 pids
  [ -n "$sid" ] || return 0
  pids=$(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }')
  [ -n "$pids" ] || return 0
  say "stopping what the benchmark left running (session $sid): $(echo "$pids" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  sleep 2
  pids=$(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }')
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}
# `wait` below is interruptible: on INT or TERM the running benchmark's session (its id
# is in <name>.sid while it runs) is stopped before bench-all exits.
# shellcheck disable=SC2317 # called by the trap
on_signal() {
  say "interrupted; stopping the running benchmark"
  local f
  for f in "$WORK"/*.sid; do [ -f "$f" ] && reap_session "$(cat "$f")"; done
  exit 130
}
trap on_signal INT TERM

run_bench() { # NAME LIMIT COMMAND...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS rc=0 elapsed status load
  load=$(loadavg)
  say "$name: starting (limit ${limit}s; output: $WORK/$name.out, $WORK/$name.err)"
  # The session leader writes its pid (= the session id) first, then becomes `timeout`.
  # shellcheck disable=SC2016 # $$ and $0 are the inner shell's
  setsid -w bash -c 'echo $$ >"$0"; exec "$@"' "$WORK/$name.sid" \
    timeout -k 10 "$limit" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
  wait $! || rc=$?
  elapsed=$((SECONDS - t0))
  reap_session "$(cat "$WORK/$name.sid" 2>/dev/null || true)"
  rm -f "$WORK/$name.sid"
  if [ "$rc" = 0 ]; then
    status=ok
  elif { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && [ "$elapsed" -ge "$limit" ]; then
    status=hung
  else
    status=failed
  fi
  say "$name: $status (exit $rc) after ${elapsed}s"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$elapsed" "$limit" "$load" "$*" >>"$RUNS"
}
selected() { [[ " $BENCHES " == *" $1 "* ]]; }

if selected bench; then
  run_bench bench "$BENCH_LIMIT" "$CA_ADMIN" bench --seconds "$BENCH_SECONDS" --writers "$BENCH_WRITERS" --json
fi
if selected scale; then
  SCALE_DIR=$WORK/scale-data
  scale_args=(--sizes "$SCALE_SIZES" --samples "$SCALE_SAMPLES" --max-minutes "$SCALE_MAX_MINUTES"
    --dir "$SCALE_DIR" --json)
  [ "$KEEP_INNER" = 1 ] && scale_args+=(--keep)
  run_bench scale "$SCALE_LIMIT" "$CA_ADMIN" bench scale "${scale_args[@]}"
  # A scale run killed at its limit cannot remove its data directory itself.
  [ "$KEEP_INNER" = 1 ] || rm -rf "$SCALE_DIR"
fi
if selected acme; then
  run_bench acme "$ACME_LIMIT" env SKIP_BUILD=1 KEEP="$KEEP_INNER" ORDERS_C1="$ORDERS_C1" \
    ORDERS_C16="$ORDERS_C16" WARMUP="$ACME_WARMUP" RUN_LIMIT="$ACME_RUN_LIMIT" \
    "$ROOT/scripts/bench-acme.sh"
fi
if selected scep; then
  run_bench scep "$SCEP_LIMIT" env SKIP_BUILD=1 KEEP="$KEEP_INNER" C1_ENROLLMENTS="$C1_ENROLLMENTS" \
    C16_WORKERS="$C16_WORKERS" C16_PER_WORKER="$C16_PER_WORKER" WARMUP="$SCEP_WARMUP" \
    PEER_TIMEOUT="$SCEP_PEER_TIMEOUT" RUN_LIMIT="$SCEP_RUN_LIMIT" SPEED_SECONDS="$SPEED_SECONDS" \
    "$ROOT/scripts/bench-scep.sh"
fi
if selected est; then
  run_bench est "$EST_LIMIT" env SKIP_BUILD=1 KEEP="$KEEP_INNER" C1="$EST_C1" C16="$EST_C16" \
    WARMUP="$EST_WARMUP" BENCH_SECONDS="$EST_BENCH_SECONDS" "$ROOT/scripts/bench-est.sh"
fi
if selected ocsp; then
  run_bench ocsp "$OCSP_LIMIT" env SKIP_BUILD=1 KEEP="$KEEP_INNER" SECONDS_PER_RUN="$OCSP_SECONDS" \
    CONNECTIONS="$OCSP_CONNECTIONS" THREADS="$OCSP_THREADS" WARMUP="$OCSP_WARMUP" \
    SPEED_SECONDS="$SPEED_SECONDS" "$ROOT/scripts/bench-ocsp.sh"
fi

{
  echo "load_end=$(loadavg)"
  echo "bench_seconds=$((SECONDS - STARTED - BUILD_SECONDS))"
  echo "total_seconds=$((SECONDS - STARTED))"
} >>"$META"

# --- the report ----------------------------------------------------------------------
python3 "$ROOT/scripts/bench-report.py" "$WORK" | tee "$WORK/report.md" \
  || say "the report failed; the outputs are in $WORK"
echo
echo "work directory (every benchmark's full output, report.md): $WORK"
exit 0
