"""The post's mix under load: throughput and p95 per page, errors, and the decision-to-signed-PDF time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pif_load CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/bench_load.py [--servers prod runserver] [--clients 1 8 32] [--seconds 20]

The post at work: 40 tablets (inspectors) on their day page and their task's form, 400 importers' systems
(API tokens) polling their consignments' list and detail, 5 supervisors on the dashboard and one laboratory
posting results through the API. Each persona has a think time (MIX below), which makes the post's own rate of
requests; the load replays that mix without thinking: each of N concurrent clients (threads, one keep-alive
connection each) draws its next request from the mix by those rates, as one of the personas, back to back. So
1, 8 and 32 clients send the same mix, scaled. Meanwhile an officer takes a decision (accept) every
--decide-every seconds through the task form, and the time from the decision's POST until the worker's
certificate job is done (the PDF rendered, signed and stored) is measured.

It prepares its own data in DATABASE_URL (migrate, `manage.py demo --force`, then the personas and the
consignments they work on: made once, found again on a second run), then for each server: starts it (`prod`:
`python -m pif.prod`, i.e. `make prod`: gunicorn, a Celery worker and beat; `runserver`: `make run`'s
`runserver` and `celery worker -B`, with DEBUG off as in production), waits for /healthz to see the worker,
warms up, runs each level for --seconds, and stops every process it started. Nothing here is a test.
"""

import argparse
import http.client
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# persona -> how many at the post, seconds between two requests of one of them, and its pages (share of its requests)
MIX = {
    "tablet": (40, 10.0, {"day page": 1, "task form": 1}),
    "importer": (400, 60.0, {"API consignment list": 1, "API consignment detail": 1}),
    "supervisor": (5, 15.0, {"dashboard": 1}),
    "lab": (1, 5.0, {"API lab result": 1}),
}
SECRET = "bench-load-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"  # noqa: S105  (a throwaway server's key)
CSRF = "benchloadcsrftoken0123456789abcd"  # 32 characters: a CSRF secret Django accepts as cookie and header
ACCEPT = {"code": "acceptable_for_internal_market", "measure": "", "measure_deadline": "", "notes": ""}


def page_rates(mix: dict = MIX) -> dict[str, tuple[str, float]]:
    """page -> (persona, requests per second at the post): the weights the clients draw their requests by."""
    rates = {}
    for persona, (count, every, pages) in mix.items():
        share = sum(pages.values())
        for page, weight in pages.items():
            rates[page] = (persona, count / every * weight / share)
    return rates


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", nargs="+", choices=["prod", "runserver"], default=["prod", "runserver"])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="concurrent clients per level")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each level")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of load before the first level (every web process warm)"
    )
    parser.add_argument("--decide-every", type=float, default=5.0, help="seconds between two decisions")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8103")))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    if any(c < 1 for c in args.clients) or args.seconds <= 0 or args.decide_every <= 0:
        parser.error("--clients must be at least 1, --seconds and --decide-every more than 0")
    return args


# ---------------------------------------------------------------------------------------------------- the data


@dataclass
class Personas:
    """Who sends what: session cookies, API keys, and the URLs each of them works on."""

    tablets: list[tuple[str, str]] = field(default_factory=list)  # (session key, their task form's URL)
    importers: list[tuple[str, list[str]]] = field(default_factory=list)  # (API key, their references)
    supervisors: list[str] = field(default_factory=list)  # session keys
    lab: tuple[str, list[str]] = ("", [])  # (API key, sample numbers awaiting a result)
    officer: str = ""  # session key
    to_decide: list[int] = field(default_factory=list)  # consignment ids awaiting a decision


def server_env(database_url: str, broker_url: str, var: Path, port: int) -> dict:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "PIF_AUDIT_KEY": SECRET[::-1],
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "EMAIL_URL": "dummymail://",
        "PIF_VAR_DIR": str(var),
        "PIF_SIGNING_KEY": str(var / "signing" / "key.pem"),
        "PIF_SIGNING_CERT": str(var / "signing" / "cert.pem"),
        "STATIC_ROOT": str(var / "static"),
        "STATIC_MANIFEST": "false",
        "PIF_READ_DOT_ENV": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        # 400 clients from one address: the rate limits would measure themselves
        "API_THROTTLE_ANON": "1000000/min",
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_TOKEN": "1000000/min",
        "PIF_HEARTBEAT_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "pif.settings",
    }


def prepare(seed: int, decisions_needed: int) -> Personas:
    """The demo, then the personas and their work (made through the services, as the demo does)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("demo", force=True, consignments=20, verbosity=0)

    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from viewflow.workflow.status import STATUS

    import pif.urls  # noqa: F401  (Task.reverse needs the URLconf)
    from inspection.models import ApiToken, Bcp, Consignment, ConsignmentStatus, Membership, Sample, StaffPost
    from inspection.roles import Role
    from inspection.services.api_tokens import api_token_create, api_token_login
    from inspection.services.consignments import consignment_create
    from tests.factories import part_one
    from workflows.engine.locking import task_locked
    from workflows.flows import InspectionFlow
    from workflows.management.commands._demo_flow import drive
    from workflows.steps import open_task

    staff = {name: User.objects.get(username=name) for name in ("inspector", "officer", "supervisor", "lab")}
    importers = list(User.objects.filter(username__in=["importer", "importer2"]).order_by("username"))
    port = Bcp.objects.get(code="FRFDF1")
    template = User.objects.get(username="inspector").password  # "demo", hashed once

    def users(prefix: str, count: int, role: str) -> list:
        found = []
        for i in range(count):
            user, made = User.objects.get_or_create(username=f"{prefix}{i + 1:03d}", defaults={"password": template})
            if made:
                user.groups.add(Group.objects.get(name=role))
            found.append(user)
        return found

    def session(user) -> str:
        client = Client()
        client.force_login(user, backend="inspection.roles.RoleBackend")
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    tablets = users("tablet", 40, Role.INSPECTOR)
    for user in tablets:
        StaffPost.objects.update_or_create(user=user, defaults={"bcp": port})
    supervisors = users("supervisor", 5, Role.SUPERVISOR)

    # 400 importers' systems: API-only users (no password) of the two demo companies, one token each
    personas = Personas()
    references = {
        imp.membership.operator_id: list(
            Consignment.objects.filter(operator=imp.membership.operator, submitted_at__isnull=False).values_list(
                "reference", flat=True
            )
        )
        for imp in importers
    }
    ApiToken.objects.filter(user__username__startswith="system", name="bench_load").delete()
    for i in range(400):
        company = importers[i % 2].membership.operator
        user, made = User.objects.get_or_create(username=f"system{i + 1:03d}")
        if made:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=Role.IMPORTER))
            Membership.objects.create(user=user, operator=company)
        _, key = api_token_create(actor=user, name="bench_load")
        personas.importers.append((key, references[company.pk]))

    # each tablet has a documentary check claimed: its form is the page it works on
    rng = random.Random(seed)
    for user in tablets:
        task = InspectionFlow.task_class.objects.filter(
            flow_task=InspectionFlow.documentary_check, owner=user, status=STATUS.ASSIGNED
        ).first()
        if task is None:
            consignment = consignment_create(actor=rng.choice(importers), part_one=part_one("CHED-PP"))
            drive(consignment, "documentary", staff)
            task = open_task(consignment, InspectionFlow.documentary_check)
            with task_locked(InspectionFlow, task.process_id, task.pk) as task:  # as the task list's "claim"
                task.flow_task.activation_class(task).assign(user)
        personas.tablets.append((session(user), task.reverse("execute")))
    personas.supervisors = [session(user) for user in supervisors]
    personas.officer = session(staff["officer"])

    # consignments awaiting a decision: enough for every level of both servers
    waiting = list(Consignment.objects.filter(status=ConsignmentStatus.AWAITING_DECISION).values_list("pk", flat=True))
    waiting = [pk for pk in waiting if open_task(Consignment(pk=pk), InspectionFlow.decide) is not None]
    for _ in range(max(0, decisions_needed - len(waiting))):
        consignment = consignment_create(actor=rng.choice(importers), part_one=part_one("CHED-PP"))
        drive(consignment, "decision", staff)
        consignment.refresh_from_db()
        if consignment.status == ConsignmentStatus.AWAITING_DECISION:
            waiting.append(consignment.pk)
    personas.to_decide = waiting

    _, lab_key = api_token_login(actor=staff["lab"])
    samples = list(Sample.objects.filter(laboratory__code="LTA972").values_list("number", flat=True)[:20])
    personas.lab = (lab_key, samples)
    return personas


# ---------------------------------------------------------------------------------------------------- the servers


class Server:
    """One server under test with its worker (and beat), in process groups of their own."""

    def __init__(self, kind: str, env: dict, log: Path):
        self.kind, self.env, self.log, self.processes = kind, env, log, []

    def start(self) -> None:
        python, bin_dir = sys.executable, Path(sys.executable).parent
        if self.kind == "prod":
            commands = [[python, "-m", "pif.prod"]]
        else:  # make run's two processes
            commands = [
                [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.env['PORT']}"],
                [str(bin_dir / "celery"), "-A", "pif", "worker", "-B", "--concurrency", "2", "--loglevel", "WARNING",
                 "--schedule", f"{self.env['PIF_VAR_DIR']}/celerybeat-schedule"],
            ]  # fmt: skip
        out = self.log.open("ab")
        for command in commands:
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True)
            )
        deadline, last = time.monotonic() + 300, None
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                self.stop()
                raise SystemExit(f"{self.kind} exited at start: see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.env['PORT']}/healthz", timeout=5) as answer:  # noqa: S310
                    last = answer.read().decode()
                    if '"status": "ok"' in last or '"status":"ok"' in last:
                        return
            except OSError as exc:
                last = repr(exc)
            time.sleep(1)
        self.stop()
        raise SystemExit(f"{self.kind}: /healthz never said ok: {last}")

    def web_cpu(self) -> float:
        """CPU seconds used so far by the web server's processes (gunicorn's master and workers, or runserver),
        not the worker's: with the requests served, what one request costs the server."""
        stats = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            stats[int(stat.parent.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]), cmdline)
        roots = {pid for pid, (_, _, cmd) in stats.items() if b"gunicorn" in cmd or b"runserver" in cmd}
        ours = {p.pid for p in self.processes}

        def descends(pid: int) -> bool:
            while pid in stats and pid not in ours:
                pid = stats[pid][0]
            return pid in ours

        web = {pid for pid in roots if descends(pid)}
        return sum(stats[pid][1] for pid in web) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []


# ---------------------------------------------------------------------------------------------------- the load


def requests_for(personas: Personas) -> dict:
    """page -> a function of a random generator giving (method, path, headers, body) for one request."""
    import json

    def cookie(key):
        return {"Cookie": f"sessionid={key}", "Accept-Language": "fr"}

    def token(key):
        return {"Authorization": f"Token {key}", "Accept-Language": "en"}

    def detail(rng):
        key, references = rng.choice(personas.importers)
        return "GET", f"/api/v1/consignments/{rng.choice(references)}/", token(key), None

    def task_form(rng):
        key, url = rng.choice(personas.tablets)
        return "GET", url, cookie(key), None

    def lab(rng):
        key, samples = personas.lab
        body = json.dumps({"sample": rng.choice(samples), "conclusion": "satisfactory", "analytes": []})
        return "POST", "/api/v1/lab-results/", {**token(key), "Content-Type": "application/json"}, body

    return {
        "day page": lambda rng: ("GET", "/workflow/today/", cookie(rng.choice(personas.tablets)[0]), None),
        "task form": task_form,
        "API consignment list": lambda rng: (
            "GET",
            "/api/v1/consignments/",
            token(rng.choice(personas.importers)[0]),
            None,
        ),
        "API consignment detail": detail,
        "dashboard": lambda rng: ("GET", "/supervision/dashboard/", cookie(rng.choice(personas.supervisors)), None),
        "API lab result": lab,
    }


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q + 0.5) - 1)] if values else 0.0


def load(port: int, personas: Personas, clients: int, seconds: float, seed: int) -> dict:
    """`clients` threads send the mix back to back for `seconds`; page -> latencies and errors."""
    rates = page_rates()
    pages, weights = list(rates), [rates[p][1] for p in rates]
    makers = requests_for(personas)
    results = {page: {"latencies": [], "errors": []} for page in pages}
    lock, barrier = threading.Lock(), threading.Barrier(clients + 1)
    ok = {"API lab result": {200, 201}}
    stop_at = [0.0]

    def client(n: int):
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = {page: ([], []) for page in pages}
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            page = rng.choices(pages, weights)[0]
            method, path, headers, body = makers[page](rng)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                mine[page][1].append(exc.__class__.__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if response.status not in ok.get(page, {200}):
                mine[page][1].append(response.status)
            else:
                mine[page][0].append(time.perf_counter() - started)
        conn.close()
        with lock:
            for page, (latencies, errors) in mine.items():
                results[page]["latencies"].extend(latencies)
                results[page]["errors"].extend(errors)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    stop_at[0] = started + seconds
    barrier.wait()  # every client connected: go
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"elapsed": elapsed, "pages": results}


def decisions(port: int, personas: Personas, every: float, stop: threading.Event, out: list) -> None:
    """The officer accepts one consignment every `every` seconds over HTTP; each measured until its
    certificate job is done (the worker rendered, signed and stored the PDF)."""
    from django.db import connection
    from viewflow.workflow.status import STATUS

    from inspection.models import Consignment
    from workflows.flows import InspectionFlow
    from workflows.steps import open_task

    headers = {
        "Cookie": f"sessionid={personas.officer}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept-Language": "fr",
    }
    body = "&".join(f"{k}={v}" for k, v in ACCEPT.items())
    try:
        while not stop.is_set() and personas.to_decide:
            next_at = time.monotonic() + every
            pk = personas.to_decide.pop(0)
            task = open_task(Consignment(pk=pk), InspectionFlow.decide)
            if task is None:
                continue
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            started = time.perf_counter()
            statuses = []
            for action, data in (("assign", ""), ("execute", body)):
                conn.request("POST", task.reverse(action), body=data, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
            conn.close()
            if statuses != [302, 302]:
                out.append(("error", statuses))
                continue
            decided = time.perf_counter()
            job = InspectionFlow.task_class.objects.filter(
                process_id=task.process_id, flow_task=InspectionFlow.issue_certificate
            )
            while time.perf_counter() - decided < 180:
                status = job.values_list("status", flat=True).first()
                if status == STATUS.DONE:
                    out.append(("done", time.perf_counter() - started))
                    break
                if status == STATUS.ERROR:
                    out.append(("error", "certificate job failed"))
                    break
                time.sleep(0.05)
            else:
                out.append(("error", "no certificate in 180 s"))
            stop.wait(max(0.0, next_at - time.monotonic()))
    finally:
        connection.close()  # this thread's own


def level(port: int, personas: Personas, clients: int, seconds: float, every: float, seed: int) -> dict:
    stop, decided = threading.Event(), []
    decider = threading.Thread(target=decisions, args=(port, personas, every, stop, decided))
    decider.start()
    result = load(port, personas, clients, seconds, seed)
    stop.set()
    decider.join()
    result["decisions"] = decided
    return result


def report(server: str, clients: int, result: dict, load_average: str) -> list[str]:
    lines = []
    total = sum(len(r["latencies"]) for r in result["pages"].values())
    errors = sum(len(r["errors"]) for r in result["pages"].values())
    for page, r in result["pages"].items():
        latencies = r["latencies"]
        kinds = f" {sorted({str(e) for e in r['errors']})[:3]}" if r["errors"] else ""
        lines.append(
            f"| {server} | {clients} | {page} | {len(latencies)} | {len(latencies) / result['elapsed']:.1f}/s | "
            f"{percentile(latencies, 0.95) * 1000:.0f} ms | {len(r['errors'])}{kinds} |"
        )
    done = [t for kind, t in result["decisions"] if kind == "done"]
    failed = [t for kind, t in result["decisions"] if kind != "done"]
    pdf = f"{statistics.median(done):.2f} s median, {max(done):.2f} s max, {len(done)} decisions" if done else "none"
    lines.append(
        f"| {server} | {clients} | **all** | {total} | **{total / result['elapsed']:.1f}/s** | "
        f"{percentile([x for r in result['pages'].values() for x in r['latencies']], 0.95) * 1000:.0f} ms | "
        f"{errors} | decision to signed PDF: {pdf}{f'; failed {failed}' if failed else ''}; "
        f"web CPU {result.get('web_cpu', 0) / max(total, 1) * 1000:.0f} ms a request; load {load_average} |"
    )
    return lines


def main(argv=None) -> None:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith("postgres") or not broker_url.startswith("redis"):
        raise SystemExit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis): see the docstring.")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            raise SystemExit(f"Port {args.port} is in use: choose another with --port.")
    var = Path(tempfile.mkdtemp(prefix="pif-load-"))
    env = server_env(database_url, broker_url, var, args.port)
    os.environ.update(env)
    started = time.monotonic()
    levels = len(args.servers) * len(args.clients)
    personas = prepare(args.seed, levels * (math.ceil(args.seconds / args.decide_every) + 1))
    print(
        f"(data ready in {time.monotonic() - started:.0f} s: {len(personas.tablets)} tablets, "
        f"{len(personas.importers)} API tokens, {len(personas.supervisors)} supervisors, "
        f"{len(personas.lab[1])} samples for the lab, {len(personas.to_decide)} consignments to decide)",
        flush=True,
    )
    rates = page_rates()
    post = sum(rate for _, rate in rates.values())
    print(f"The post's own rate with these think times: {post:.1f} requests/s; shares: " + ", ".join(
        f"{page} {rate / post:.0%}" for page, (_, rate) in rates.items()
    ))  # fmt: skip
    print("| server | clients | page | requests | requests/s | p95 | errors | |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    log = var / "servers.log"
    ratios = []
    for kind in args.servers:
        server = Server(kind, env, log)
        try:
            server.start()
            load(args.port, personas, 4, args.warmup, args.seed)
            served = {}
            for clients in args.clients:
                cpu = server.web_cpu()
                result = level(args.port, personas, clients, args.seconds, args.decide_every, args.seed)
                result["web_cpu"] = server.web_cpu() - cpu
                average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                for line in report(kind, clients, result, average):
                    print(line, flush=True)
                served[clients] = sum(len(r["latencies"]) for r in result["pages"].values()) / result["elapsed"]
            if 1 in served:
                ratios += [f"{kind} {c} clients ÷ 1: {served[c] / served[1]:.2f}" for c in served if c != 1]
        finally:
            server.stop()
    print("; ".join(ratios))
    shutil.rmtree(var, ignore_errors=True)  # kept, with the servers' log, when something failed


if __name__ == "__main__":
    main()
