#!/usr/bin/env python3
"""The one report of scripts/bench-all.sh: reads the outputs it kept in its work directory and
prints the machine, how each benchmark ran, and one markdown table

    figure | Certwright | reference (measured in this run) | ratio | goal

Standard library only. Every figure comes from a benchmark's own output (JSON where it prints
JSON, its table or summary lines otherwise); a figure that is not there is printed as "n/a"
with the reason (the benchmark was not run, failed, hung, or did not print it).

    scripts/bench-report.py WORK-DIR
"""
import json
import math
import re
import sys
from pathlib import Path

WORK = Path(sys.argv[1]) if len(sys.argv) > 1 else sys.exit(__doc__)


# --- reading -------------------------------------------------------------------------------
def read_text(name):
    path = WORK / name  # an absolute name stays as it is
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def read_meta():
    meta = {}
    for line in read_text("meta.txt").splitlines():
        key, _, value = line.partition("=")
        meta[key] = value
    return meta


def read_runs():
    runs = {}
    lines = read_text("runs.tsv").splitlines()
    for line in lines[1:]:
        name, status, rc, seconds, limit, load, command = (line.split("\t") + [""] * 7)[:7]
        runs[name] = dict(status=status, rc=rc, seconds=int(seconds or 0), limit=int(limit or 0),
                          load=load, command=command)
    return runs


META = read_meta()
RUNS = read_runs()
SELECTED = META.get("benches", "").split()


class Missing(Exception):
    """A figure that cannot be given; the message says why."""


def why_missing(bench, what=None):
    """Why a benchmark's figure is not there: not run, hung, failed, or not in its output."""
    run = RUNS.get(bench)
    if bench not in SELECTED:
        return f"{bench} not run (BENCHES)"
    if run is None:
        return f"{bench} did not run"
    if run["status"] == "hung":
        return f"{bench} hung (no result within {run['limit']} s)"
    if run["status"] == "failed":
        return f"{bench} failed (exit {run['rc']}; see {bench}.err)"
    return f"{what or 'the figure'} not in {bench}'s output"


def json_output(bench):
    text = read_text(f"{bench}.out").strip()
    if not text:
        raise Missing(why_missing(bench, "no JSON"))
    try:
        return json.loads(text)
    except ValueError as e:
        raise Missing(f"{bench}'s output is not JSON ({e}); {why_missing(bench)}")


def json_lines(*names):
    """Every flat JSON object on a line of its own in these files (the load drivers' lines)."""
    found = []
    for name in names:
        for line in read_text(name).splitlines():
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    pass
    return found


def num(text):
    return float(text.replace(",", ""))


# --- formatting ----------------------------------------------------------------------------
def fmt(x, unit=""):
    """A number with a precision that suits its size, and its unit."""
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    a = abs(x)
    if a >= 1000:
        s = f"{x:,.0f}"
    elif a >= 100:
        s = f"{x:.0f}"
    elif a >= 10:
        s = f"{x:.1f}"
    elif a >= 1:
        s = f"{x:.2f}"
    else:
        s = f"{x:.3f}"
    return f"{s} {unit}".strip()


def size_label(n):
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            v = n / div
            return f"{v:g}{suffix}"
    return f"{n:,}"


ROWS = []  # (figure, certwright, reference, ratio, goal)
NOTES = []


def goal_text(goal, value):
    """goal = (text, check) where check(value) is True/False; value is what the goal is about."""
    if goal is None:
        return "—"
    text, check = goal
    if value is None or check is None:
        return text + (" (not checked)" if check is not None else "")
    try:
        ok = check(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return text
    return f"{text} {'✓' if ok else '✗'}"


def at_least(v):
    return (f"≥ {v:g}", lambda x: x >= v)


def at_most(v):
    return (f"≤ {v:g}", lambda x: x <= v)


def more_than(v):
    return (f"> {v:g}", lambda x: x > v)


def row(figure, compute, goal=None, goal_on="ratio"):
    """compute() returns (certwright, reference, ratio) as numbers or text; a Missing becomes n/a."""
    try:
        cw, ref, ratio = compute()
    except Missing as e:
        ROWS.append((figure, f"n/a ({e})", "n/a", "n/a", goal[0] if goal else "—"))
        return
    value = ratio if goal_on == "ratio" else cw
    if isinstance(value, tuple):  # (number, text) pairs carry a number for the goal
        value = value[0]
    shown = [c[1] if isinstance(c, tuple) else c for c in (cw, ref, ratio)]
    ROWS.append((figure, shown[0], shown[1], shown[2],
                 goal_text(goal, value if isinstance(value, (int, float)) else None)))


def ratio_of(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rfmt(r):
    if r is None:
        return "n/a"
    return f"{r:.1f}" if abs(r) >= 10 else f"{r:.2f}" if abs(r) >= 0.1 else f"{r:.3g}"


# --- ca-admin bench ------------------------------------------------------------------------
def bench_report():
    return json_output("bench")


def p256_issuance(report):
    for f in report.get("issuance", []):
        if "256" in f.get("ca_key", ""):
            return f
    raise Missing("no P-256 issuance in ca-admin bench's output")


def store_run(report, writers):
    for r in report.get("store", {}).get("runs", []):
        if r.get("writers") == writers:
            return r
    raise Missing(f"no {writers}-writer store run (BENCH_WRITERS={META.get('bench_writers')})")


def issuance_row():
    f = p256_issuance(bench_report())
    rate, limit = f["issued"]["per_second"], f["raw_limit_per_second"]
    r = ratio_of(rate, limit)
    return (fmt(rate, "/s"), f"{fmt(limit, '/s')} (1/(CSR verify + P-256 sign), 1 core)", (r, rfmt(r)))


def store_cost_row():
    report = bench_report()
    unstored = p256_issuance(report)["issued"]["per_second"]
    stored = store_run(report, 1)["non_durable"]["issued"]["per_second"]
    cost = 1e6 / stored - 1e6 / unstored
    crypto = 1e6 / unstored
    r = cost / crypto
    return (f"{fmt(cost, 'µs')} (1e6/{fmt(stored)} − 1e6/{fmt(unstored)})",
            f"{fmt(crypto, 'µs')} (crypto cost per certificate: 1e6 / unstored rate)", (r, rfmt(r)))


def durable_row():
    run = store_run(bench_report(), 16)
    d, n = run["durable"]["issued"]["per_second"], run["non_durable"]["issued"]["per_second"]
    r = ratio_of(d, n)
    commits = run["durable"].get("batches_per_commit")
    extra = f" ({commits:.1f} certificates per fsync)" if commits else ""
    return (fmt(d, "/s") + extra, f"{fmt(n, '/s')} (non-durable, 16 writers)", (r, rfmt(r)))


# --- ACME ----------------------------------------------------------------------------------
def acme_line(server, c):
    run = RUNS.get("acme")
    # The driver's lines are on stdout; a failed run is only in the results file it names.
    m = re.search(r"^JSON lines: (.+)$", read_text("acme.out"), re.M)
    found = json_lines("acme.out") + (json_lines(m.group(1)) if m else [])
    lines = [l for l in found if l.get("server") == server and l.get("concurrency") == c]
    if not lines:
        if run and run["status"] == "hung":
            raise Missing(f"hung: no result within {run['limit']} s, bench-acme.sh killed at ACME_LIMIT")
        raise Missing(why_missing("acme", f"the {server} c={c} run"))
    line = lines[-1]
    if line.get("hung"):
        raise Missing(f"hung: no result within {line.get('run_limit_s', '?')} s")
    if line.get("failed"):
        raise Missing("failed (see acme.err)")
    return line


def acme_value(server, c, key, unit):
    try:
        line = acme_line(server, c)
    except Missing as e:
        return None, f"n/a ({e})"
    v = line[key]
    text = fmt(v, unit)
    if line.get("errors"):
        text += f" ({line['errors']} errors)"
    return v, text


def acme_row(c, key, unit):
    def compute():
        cw, cw_text = acme_value("certwright", c, key, unit)
        pb, pb_text = acme_value("pebble", c, key, unit)
        if cw is None and cw_text.startswith("n/a"):
            raise Missing(cw_text[5:-1])
        r = ratio_of(cw, pb)
        return cw_text, f"Pebble {pb_text}", (r, rfmt(r))
    return compute


# --- SCEP ----------------------------------------------------------------------------------
SCEP_ROW = re.compile(r"^(scepserver|certwright)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s")


def scep_line(server, c):
    lines = [l for l in json_lines("scep.err", "scep.out")
             if l.get("server") == server and l.get("concurrency") == c]
    if not lines:
        raise Missing(why_missing("scep", f"the {server} c={c} run"))
    return lines[-1]


def scep_dups(server, c):
    for line in read_text("scep.out").splitlines():
        m = SCEP_ROW.match(line)
        if m and m.group(1) == server and int(m.group(2)) == c:
            return int(m.group(8))
    return None


def scep_reference_ms():
    m = re.search(r"one decryption \+ one signature = ([\d.]+) ms", read_text("scep.out"))
    if not m:
        raise Missing(why_missing("scep", "the RSA-2048 reference"))
    return float(m.group(1))


def scep_cell(line, key, unit):
    v = line.get(key)
    text = fmt(v, unit) if isinstance(v, (int, float)) else f"n/a ({v})"
    bad = [f"{line[k]} {k}" for k in ("failed", "hung") if line.get(k)]
    if line.get("lost"):
        bad.append(f"{line['lost']} lost of {line.get('planned')}")
    if bad:
        text += " (" + ", ".join(bad) + ")"
    return (v if isinstance(v, (int, float)) else None), text


def scep_vs_peer(c, key, unit):
    def compute():
        cw, cw_text = scep_cell(scep_line("certwright", c), key, unit)
        try:
            mm, mm_text = scep_cell(scep_line("scepserver", c), key, unit)
        except Missing as e:
            mm, mm_text = None, f"n/a ({e})"
        r = ratio_of(cw, mm)
        return cw_text, f"scepserver {mm_text}", (r, rfmt(r))
    return compute


def scep_vs_rsa(c):
    def compute():
        cw, cw_text = scep_cell(scep_line("certwright", c), "server_cpu_ms_per_enrollment", "ms")
        ref = scep_reference_ms()
        r = ratio_of(cw, ref)
        return cw_text, f"{fmt(ref, 'ms')} (RSA-2048 decrypt + sign, openssl speed)", (r, rfmt(r))
    return compute


def scep_lost():
    parts, refs, total = [], [], 0
    for c in (1, 16):
        line = scep_line("certwright", c)
        d = scep_dups("certwright", c)
        lost = line.get("lost", 0) + (d or 0)
        total += lost
        parts.append(f"c={c}: {line.get('lost')} lost, {d if d is not None else '?'} dup")
        try:
            m = scep_line("scepserver", c)
            refs.append(f"c={c}: {m.get('lost')} lost, {scep_dups('scepserver', c)} dup")
        except Missing:
            refs.append(f"c={c}: n/a")
    return (total, "; ".join(parts)), "scepserver " + "; ".join(refs), "—"


# --- EST -----------------------------------------------------------------------------------
def est_runs():
    text = read_text("est.out")
    runs = {}
    for line in text.splitlines():
        if "concurrency=" in line and "per_second=" in line:
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            runs[int(kv["concurrency"])] = kv
    m = re.search(r"raw issuance limit: ([\d,.]+)/s per core x (\d+) cores = ([\d,.]+)/s", text)
    limit = (num(m.group(1)), int(m.group(2)), num(m.group(3))) if m else None
    return runs, limit


def est_row(c):
    def compute():
        runs, limit = est_runs()
        if c not in runs:
            raise Missing(why_missing("est", f"the c={c} run"))
        kv = runs[c]
        rate = float(kv["per_second"])
        text = fmt(rate, "/s")
        if kv.get("errors", "0") != "0":
            text += f" ({kv['errors']} errors)"
        if not limit:
            return text, f"n/a ({why_missing('est', 'the raw limit')})", "n/a"
        r = rate / limit[2]
        return text, f"{fmt(limit[2], '/s')} ({limit[1]} cores × 1/(verify + sign))", (r, rfmt(r))
    return compute


def est_cpu_row(c):
    def compute():
        runs, limit = est_runs()
        if c not in runs:
            raise Missing(why_missing("est", f"the c={c} run"))
        cpu = float(runs[c]["server_cpu_ms_per_enrollment"])
        if not limit:
            return fmt(cpu, "ms"), "n/a", "n/a"
        crypto = 1000 / limit[0]
        r = cpu / crypto
        return fmt(cpu, "ms"), f"{fmt(crypto, 'ms')} (1 CSR verify + 1 P-256 sign)", (r, rfmt(r))
    return compute


# --- OCSP ----------------------------------------------------------------------------------
OCSP_ROW = re.compile(r"^\| (cache|no-cache) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \|")


def ocsp_runs():
    runs = {}
    for line in read_text("ocsp.out").splitlines():
        m = OCSP_ROW.match(line)
        if m:
            runs[m.group(1)] = dict(responses=num(m.group(2)), rate=num(m.group(3)),
                                    server_s=float(m.group(4)), server_per_k=float(m.group(5)),
                                    wrk_s=float(m.group(6)), wrk_per_k=float(m.group(7)),
                                    non2xx=int(m.group(8)))
    return runs


def ocsp_sign_rate():
    m = re.search(r"raw P-256 signing \(openssl speed, one core\): ([\d,]+) signs/s", read_text("ocsp.out"))
    if not m:
        raise Missing(why_missing("ocsp", "openssl speed ecdsap256"))
    return num(m.group(1))


def ocsp_run(name):
    runs = ocsp_runs()
    if name not in runs:
        raise Missing(why_missing("ocsp", f"the {name} run"))
    return runs[name]


def ocsp_rate_text(r):
    return fmt(r["rate"], "/s") + (f" ({r['non2xx']} non-2xx)" if r["non2xx"] else "")


def ocsp_cache_row():
    c, n = ocsp_run("cache"), ocsp_run("no-cache")
    r = ratio_of(c["rate"], n["rate"])
    return ocsp_rate_text(c), f"{ocsp_rate_text(n)} (no cache)", (r, rfmt(r))


def ocsp_vs_sign(name):
    def compute():
        run = ocsp_run(name)
        sign = ocsp_sign_rate()
        r = run["rate"] / sign
        return ocsp_rate_text(run), f"{fmt(sign, '/s')} (P-256 signs, openssl speed, 1 core)", (r, rfmt(r))
    return compute


def ocsp_cpu_vs_sign():
    run = ocsp_run("no-cache")
    sign = ocsp_sign_rate()
    per = run["server_per_k"] * 1000  # µs per response
    r = per / (1e6 / sign)
    return fmt(per, "µs"), f"{fmt(1e6 / sign, 'µs')} (one P-256 signature)", (r, rfmt(r))


def ocsp_driver(name):
    def compute():
        run = ocsp_run(name)
        r = ratio_of(run["wrk_per_k"], run["server_per_k"])
        return (f"wrk {fmt(run['wrk_per_k'] * 1000, 'µs')}",
                f"server {fmt(run['server_per_k'] * 1000, 'µs')}", (r, rfmt(r)))
    return compute


# --- scale ---------------------------------------------------------------------------------
def scale_report():
    report = json_output("scale")
    sizes = [s for s in report.get("sizes", []) if s.get("by_serial")]
    if not sizes:
        raise Missing("no size measured" + (f" ({report.get('stopped_early')})" if report.get("stopped_early") else ""))
    if report.get("stopped_early"):
        note = f"scale stopped early: {report['stopped_early']}"
        if note not in NOTES:
            NOTES.append(note)
    return report, sizes[0], sizes[-1]


def dig(d, path):
    for key in path.split("."):
        if not isinstance(d, dict) or d.get(key) is None:
            return None
        d = d[key]
    return d


def scale_row(path, unit):
    def compute():
        _, small, large = scale_report()
        a, b = dig(large, path), dig(small, path)
        if a is None:
            raise Missing(f"not measured at {size_label(large['size'])}")
        if small is large:
            return fmt(a, unit), "n/a (one size only)", "n/a"
        r = ratio_of(a, b)
        return (f"{fmt(a, unit)} at {size_label(large['size'])}",
                f"{fmt(b, unit)} at {size_label(small['size'])}", (r, rfmt(r)))
    return compute


def scale_label(what):
    sizes = [int(s) for s in META.get("scale_sizes", "").split(",") if s.strip().isdigit()]
    if len(sizes) >= 2:
        return f"scale: {what}, {size_label(sizes[-1])} vs {size_label(sizes[0])}"
    return f"scale: {what}"


def crl_row():
    _, _, large = scale_report()
    crl = large.get("crl")
    if not crl:
        raise Missing(f"no CRL measured at {size_label(large['size'])}")
    ms, entries = crl["millis"], crl["entries"]
    text = f"{fmt(ms, 'ms')} ({entries:,} revoked entries, at {size_label(large['size'])})"
    # The goal is about 100k revoked entries (the 1M size); a smaller CRL is not checked.
    return ((ms if entries >= 100_000 else None), text), "—", "—"


def bytes_per_cert_row():
    _, small, large = scale_report()
    per = lambda s: s["store_bytes"] / s["filled"] if s.get("store_bytes") and s.get("filled") else None
    a, b = per(large), per(small)
    if a is None:
        raise Missing("no store size")
    r = ratio_of(a, b)
    return (f"{fmt(a, 'B')} at {size_label(large['size'])}", f"{fmt(b, 'B')} at {size_label(small['size'])}",
            (r, rfmt(r)) if small is not large else "n/a")


def rss_empty_row():
    report = json_output("scale")
    e = report.get("empty_serve") or {}
    if e.get("rss_mb") is None:
        raise Missing(why_missing("scale", "the empty demo's RSS"))
    return (e["rss_mb"], fmt(e["rss_mb"], "MB")), f"start {fmt(e.get('start_ms'), 'ms')}", "—"


def rss_large_row():
    report, _, large = scale_report()
    s = large.get("serve") or {}
    if s.get("rss_mb") is None:
        raise Missing(f"serve not measured at {size_label(large['size'])}")
    e = (report.get("empty_serve") or {}).get("rss_mb")
    r = ratio_of(s["rss_mb"], e)
    return ((s["rss_mb"], f"{fmt(s['rss_mb'], 'MB')} at {size_label(large['size'])}"),
            f"{fmt(e, 'MB')} (empty demo)", (r, rfmt(r)) if r is not None else "n/a")


def serve_start_row():
    report, _, large = scale_report()
    s = large.get("serve") or {}
    if s.get("start_ms") is None:
        raise Missing(f"serve not measured at {size_label(large['size'])}")
    e = (report.get("empty_serve") or {}).get("start_ms")
    r = ratio_of(s["start_ms"], e)
    return (f"{fmt(s['start_ms'], 'ms')} at {size_label(large['size'])}", f"{fmt(e, 'ms')} (empty demo)",
            (r, rfmt(r)) if r is not None else "n/a")


# --- the report ----------------------------------------------------------------------------
def build_rows():
    row("issuance, P-256, 1 thread, not stored", issuance_row, at_least(0.8))
    row("store cost per certificate, 1 writer, no fsync", store_cost_row, at_most(0.5))
    row("durable issuance, 16 writers (CaService::issue)", durable_row, at_least(0.8))
    for c in (1, 16):
        row(f"ACME c={c}: server CPU per order", acme_row(c, "server_cpu_ms_per_order", "ms"), at_most(0.10))
        row(f"ACME c={c}: orders/s", acme_row(c, "orders_per_sec", "/s"), more_than(1))
    row("SCEP c=1: enrollments/s", scep_vs_peer(1, "enrollments_per_sec", "/s"))
    row("SCEP c=16: enrollments/s", scep_vs_peer(16, "enrollments_per_sec", "/s"), at_least(5))
    for c in (1, 16):
        row(f"SCEP c={c}: server CPU per enrollment", scep_vs_peer(c, "server_cpu_ms_per_enrollment", "ms"))
    for c in (1, 16):
        row(f"SCEP c={c}: server CPU per enrollment vs RSA cost", scep_vs_rsa(c), at_most(1.3))
    row("SCEP: Certwright's lost + duplicate enrollments", scep_lost, ("= 0", lambda x: x == 0), goal_on="certwright")
    for c in (1, 16):
        row(f"EST c={c}: enrollments/s", est_row(c))
    for c in (1, 16):
        row(f"EST c={c}: server CPU per enrollment", est_cpu_row(c))
    row("OCSP responses/s, cache vs no cache", ocsp_cache_row)
    row("OCSP responses/s with the cache vs raw P-256 signing", ocsp_vs_sign("cache"))
    row("OCSP responses/s without the cache vs raw P-256 signing", ocsp_vs_sign("no-cache"))
    row("OCSP server CPU per response, no cache, vs one signature", ocsp_cpu_vs_sign)
    row("OCSP with the cache: CPU per response, wrk ÷ server", ocsp_driver("cache"))
    row("OCSP without the cache: CPU per response, wrk ÷ server", ocsp_driver("no-cache"))
    for path, what in (("by_serial.mean_us", "lookup by serial, mean"),
                       ("by_id.mean_us", "lookup by id, mean"),
                       ("ocsp_uncached.mean_us", "OCSP answer uncached, mean"),
                       ("ocsp_cached.mean_us", "OCSP answer cached, mean"),
                       ("list_filtered_first.per_page.mean_us", "listing (org+status+expiry), first page"),
                       ("list_filtered_late.per_page.mean_us", "listing (org+status+expiry), late page"),
                       ("list_rao_first.per_page.mean_us", "listing as RAO, first page"),
                       ("list_rao_late.per_page.mean_us", "listing as RAO, late page")):
        row(scale_label(what), scale_row(path, "µs"), at_most(2))
    row("scale: CRL generation at the largest size", crl_row, ("< 1 s at 100k revoked", lambda ms: ms < 1000),
        goal_on="certwright")
    row(scale_label("store bytes per certificate"), bytes_per_cert_row)
    row("scale: `ca-admin serve` start to /healthz, largest size vs empty demo", serve_start_row)
    row("idle RSS of `ca-admin serve`, empty demo", rss_empty_row, ("< 30 MB", lambda mb: mb < 30),
        goal_on="certwright")
    row("idle RSS of `ca-admin serve`, largest data directory", rss_large_row,
        ("< 30 MB", lambda mb: mb < 30), goal_on="certwright")


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def main():
    build_rows()
    m = META
    print("# Certwright benchmark report\n")
    print(f"- machine: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, {m.get('mem_total_mb', '?')} MB, "
          f"Linux {m.get('kernel', '?')}")
    print(f"- Certwright {m.get('commit', '?')} ({m.get('tree', '?')}), started {m.get('started', '?')}")
    print(f"- load average (1, 5, 15 min) at the start: {m.get('load_start', '?')}; at the end: {m.get('load_end', '?')}")
    print(f"- total time {duration(int(m.get('total_seconds', 0) or 0))}: the build {duration(int(m.get('build_seconds', 0) or 0))}, "
          f"the benchmarks {duration(int(m.get('bench_seconds', 0) or 0))}")
    print()
    print("| benchmark | result | time | limit | load average before | command |")
    print("|---|---|---:|---:|---|---|")
    for name in ("bench", "scale", "acme", "scep", "est", "ocsp"):
        run = RUNS.get(name)
        if run is None:
            print(f"| {name} | not run | | | | |")
            continue
        result = {"ok": "ok", "hung": f"hung (limit {run['limit']} s)",
                  "failed": f"failed (exit {run['rc']})"}.get(run["status"], run["status"])
        print(f"| {name} | {result} | {run['seconds']} s | {run['limit']} s | {run['load']} | "
              f"`{cell(run['command'].replace(str(WORK) + '/', ''))}` |")
    print()
    print("| figure | Certwright | reference (measured in this run) | ratio | goal |")
    print("|---|---|---|---:|---|")
    for figure, cw, ref, ratio, goal in ROWS:
        print(f"| {cell(figure)} | {cell(cw)} | {cell(ref)} | {cell(ratio)} | {cell(goal)} |")
    print()
    print("Ratios are Certwright ÷ reference (scale rows: the largest size ÷ the smallest). "
          "✓/✗: the goal is met / missed in this run. Other work on the machine (see the load "
          "averages) skews rates and latencies; CPU times per operation are steadier.")
    for note in NOTES:
        print(f"- {note}")
    print(f"\nEach benchmark's full output: {WORK}/<name>.out and <name>.err")


if __name__ == "__main__":
    main()
