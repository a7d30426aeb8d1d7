"""`make bench`: the app under gunicorn (production settings, 2 workers) on PostgreSQL with 100,000 submitted
screenings, driven by wrk on loopback, each scenario time-limited. Throughput is reported as a ratio of a baseline
view in the same app that touches no database, measured in the same run, because these machines are noisy.

Prints a table, writes it to docs/benchmarks.md with the machine description, and ends with one JSON line.
"""

import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PORT = int(os.environ.get("BENCH_PORT", 8877))
BASE = f"http://127.0.0.1:{PORT}"
DB = "hsct_bench"
ROWS = int(os.environ.get("BENCH_ROWS", 100_000))
SECONDS = int(os.environ.get("BENCH_SECONDS", 20))
CONNECTIONS = 4
FILTERED = "review queue, filtered: unlikely, no decision yet"
ENV = {
    **os.environ, "DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0", "LOG_LEVEL": "ERROR", "AXES_FAILURE_LIMIT": "1000",
}


def run(*args, **kwargs):
    return subprocess.run(args, check=True, cwd=ROOT, env=ENV, **kwargs)


def manage(*args):
    run(PY, "manage.py", *args, stdout=subprocess.DEVNULL)


def prepare_database():
    if not shutil.which("wrk"):
        run("apt-get", "install", "-y", "-qq", "wrk", stdout=subprocess.DEVNULL)
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
    run(*psql, f"DROP DATABASE IF EXISTS {DB}")
    run(*psql, f"CREATE DATABASE {DB}")
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-qc"]
    manage("migrate", "--noinput")
    manage("load_shipped_content")
    manage("collectstatic", "--noinput")
    started = time.monotonic()
    manage("seed_screenings", str(ROWS), "--allow-production")
    run(*psql, "VACUUM ANALYZE")  # what autovacuum does to a running database after a bulk load
    password = secrets.token_urlsafe(16)
    run(PY, "manage.py", "shell", "-c",
        "from django.contrib.auth.models import Group; from screening.models import Draft, User, hash_code; "
        "from bench.floor import TOKENS; "
        f"u = User.objects.create_user('bench-neurologist', password='{password}'); "
        "u.groups.add(Group.objects.get(name='Neurologists')); "
        "Draft.objects.bulk_create(Draft(token_hash=hash_code(token)) for token in TOKENS)")
    return password, time.monotonic() - started


def start_server(settings="config.settings"):
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--workers", "2",
                               "--bind", f"127.0.0.1:{PORT}", "--no-control-socket", "--log-level", "warning"],
                              cwd=ROOT, env={**ENV, "DJANGO_SETTINGS_MODULE": settings})
    for _ in range(100):
        try:
            if urllib.request.urlopen(f"{BASE}/healthz", timeout=1).status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def sign_in(password):
    """A neurologist's session cookie, signed in through the real login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": "bench-neurologist", "password": password,
                                   "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(f"{BASE}/accounts/login/", data, headers={"Referer": BASE}))
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(script, path="/", cookie=""):
    output = subprocess.run(
        ["wrk", "-t", str(CONNECTIONS), "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--timeout", "10s",
         "-s", f"bench/{script}", BASE + path],
        cwd=ROOT, env={**ENV, "BENCH_PATH": path, "BENCH_COOKIE": cookie}, capture_output=True, text=True,
        timeout=SECONDS + 60, check=True).stdout
    return json.loads(output.split("BENCH ", 1)[1].splitlines()[0])


def scorer_evals_per_second(seconds=5.0):
    """Answers → facts → every shipped set, in-process with the pure engine (criteria loaded once)."""
    code = f"""
import json, time
from datetime import date
from screening import rules
from screening.facts import derive_facts
from screening.models import ReferenceCase
from screening.services import scoring_sets
sets = [s.scoring_rules for s in scoring_sets()]
cases = [c.answers for c in ReferenceCase.objects.all()]
today, n, start = date.today(), 0, time.perf_counter()
while time.perf_counter() - start < {seconds}:
    for answers in cases:
        facts = derive_facts(answers, today)
        for set_rules in sets:
            rules.score(set_rules, facts)
        n += 1
print(json.dumps({{"evals_per_s": n / (time.perf_counter() - start), "sets": len(sets)}}))
"""
    output = run(PY, "manage.py", "shell", "-c", code, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // 1024 // 1024
    postgres = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"],
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return (f"{os.cpu_count()} cores ({cpu}), {memory} GiB memory, Linux {platform.release()}, "
            f"Python {platform.python_version()}, PostgreSQL {postgres}, gunicorn 2 sync workers, "
            f"wrk {CONNECTIONS} connections × {SECONDS} s per scenario, on loopback")


def main():
    started = time.monotonic()
    password, seed_seconds = prepare_database()
    server = start_server()
    try:
        cookie = sign_in(password)
        deep_page = ROWS // 50 * 3 // 4
        first = run(PY, "manage.py", "shell", "-c", "from screening.models import Screening; "
                    "print(Screening.objects.filter(reference__startswith='R-SEED-').order_by('pk').first().pk)",
                    capture_output=True, text=True).stdout.strip().splitlines()[-1]
        baseline = wrk("get.lua", "/healthz")
        scenarios = [  # (name, result, the baseline it is set against)
            ("baseline (no database)", baseline, baseline),
            ("patient flow, landing to result", wrk("patient_flow.lua"), baseline),
            ("review queue, first page", wrk("get.lua", "/review/", cookie), baseline),
            (f"review queue, page {deep_page}", wrk("get.lua", f"/review/?page={deep_page}", cookie), baseline),
            (FILTERED, wrk("get.lua", "/review/?verdict=unlikely&decision=none", cookie), baseline),
            ("screening detail", wrk("get.lua", f"/review/{first}/", cookie), baseline),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    # What a step costs with nothing but its database statement and the site's page, on a server of its own so
    # that the scenarios above run the app exactly as configured. The floor is set against the baseline measured
    # again on its server just before it: the machine's speed drifts over a run, and the floor comes last.
    server = start_server("bench.floor_settings")
    try:
        floor_baseline = wrk("get.lua", "/healthz")
        scenarios += [("baseline again, on the floor's server", floor_baseline, floor_baseline),
                      ("floor: a step's SQL and the site's page, nothing else", wrk("floor.lua"), floor_baseline)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    scorer = scorer_evals_per_second()
    ratio = {name: result["rps"] / against["rps"] for name, result, against in scenarios}
    by_name = {name: result for name, result, _against in scenarios}
    flow, floor, deep = scenarios[1][0], scenarios[-1][0], scenarios[3][0]
    summary = {
        "patient_ratio": round(ratio[flow], 3),
        "floor_ratio": round(ratio[floor], 3),
        # the flow as a share of the floor (what no request of the flow can beat on this machine), each set against
        # the baseline measured next to it
        "patient_to_floor": round(ratio[flow] / ratio[floor], 3),
        "queue_p95_ms": max(by_name["review queue, first page"]["p95_ms"], by_name[deep]["p95_ms"]),
        # filtered by columns the status counts cannot answer: every matching entry is counted
        "queue_filtered_p95_ms": by_name[FILTERED]["p95_ms"],
        "detail_p95_ms": by_name["screening detail"]["p95_ms"],
        "scorer_evals_per_s": round(scorer["evals_per_s"]),
        "baseline_rps": baseline["rps"],
        "floor_baseline_rps": floor_baseline["rps"],
        "screenings": ROWS,
        "patient_flows_completed": by_name[flow]["completed"],
        "errors": sum(result["errors"] for _name, result, _against in scenarios),
        "seconds": round(time.monotonic() - started),
    }
    table = ["| scenario | requests/s | p50 ms | p95 ms | p99 ms | throughput ÷ baseline | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{ratio[name]:.2f} | {r['errors']} |" for name, r, _against in scenarios]
    table.append(f"| scorer (answers → facts → {scorer['sets']} sets, in-process) | "
                 f"{scorer['evals_per_s']:.0f} evaluations/s | | | | | |")
    print("\n".join(table))
    report = [
        "# Benchmarks", "",
        f"Latest `make bench`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {ROWS:,} submitted screenings "
        f"(seeded in {seed_seconds:.0f} s), whole run {summary['seconds']} s.", "",
        f"Machine: {machine()}.", "",
        "Each scenario's throughput is also given as a ratio of the baseline view (`/healthz`, no database) measured "
        "in the same run. The patient flow counts every request from the landing page to the result "
        "(21 requests per person: each step's page and its answers, the review, scoring, the result); every "
        "response is checked (pages 200, each post leading to the next page, the result showing a verdict), and "
        "anything unexpected counts as an error. The floor (`bench/floor.py`, on a server of its own) is a step "
        "stripped to its database statement (the step's own read, or its own merge on a post, of a draft of each "
        "connection's own) and the site's page around a one-button form: no questionnaire, no forms, no scoring. It shows what one request of the flow "
        "cannot go below on this machine; its ratio is to the baseline measured again on its server just before "
        "it, since the machine's speed drifts over a run.", "",
        *table, "", "Budgets (from the issue): patient flow ≥ 0.40 of the baseline's throughput; review queue p95 "
        "≤ 150 ms (`queue_p95_ms`: its first and deep pages; the filtered page is `queue_filtered_p95_ms`).", "",
        "```json", json.dumps(summary), "```", "",
    ]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(report))
    run("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DB}")
    print(json.dumps(summary))
    if summary["errors"] or not summary["patient_flows_completed"]:
        sys.exit("Some responses were not what the scenario expected: the figures above do not count.")


if __name__ == "__main__":
    main()
