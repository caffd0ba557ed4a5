"""`python -m pif.prod [all|web|worker|beat|migrate|check]`: PIF in production, configured by the environment only.

- `all` (what `make prod` runs): check the settings, migrate, collect the static files, then run gunicorn, one
  Celery worker and Celery beat as three supervised processes. Their logs go to stdout. Ctrl-C or SIGTERM stops
  the three (gracefully, then killed after PIF_STOP_TIMEOUT seconds) and exits 0; if one of them dies, the others
  are stopped and the exit status is 1, for systemd, Docker or an operator to restart the whole.
- `web`, `worker`, `beat`: check the settings, then become that one process (exec), as the systemd units and the
  compose file run them (scaling out: N web and worker processes on several hosts, exactly one beat).
- `migrate`: check the settings and migrate (once per upgrade, from one host, before the new code serves).
- `check`: check the settings and say what is missing.

Gunicorn runs WEB_CONCURRENCY sync workers (default 2 × cores + 1) on HOST:PORT (default 127.0.0.1:8000); the
Celery worker runs CELERY_CONCURRENCY processes (default the cores). See docs/operations.md.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

EXIT_SETTINGS = 2
ROOT = Path(__file__).resolve().parent.parent


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (a container's share)
    except AttributeError:
        return os.cpu_count() or 1


def _positive(environ, name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"PIF will not start: {name} must be a whole number of at least 1 (it is {value!r}).")
    return int(value)


def settings_problems(environ=None) -> list[str]:
    """What a production start needs and does not have, one sentence each; empty when all is well.

    Read from the environment (and the `.env` file when PIF_READ_DOT_ENV allows, as the settings do), so that a
    default meant for a developer's machine (SQLite, the filesystem broker, localhost) never reaches production.
    """
    environ = os.environ if environ is None else environ
    problems = []

    def required(name: str, why: str) -> str:
        value = environ.get(name, "").strip()
        if not value:
            problems.append(f"{name} is not set: {why}")
        return value

    if _on(environ, "DEBUG"):
        problems.append("DEBUG is on: production runs with DEBUG=false (or DEBUG unset).")
    secret = required("SECRET_KEY", "50 or more random characters, the same on every web host.")
    if secret and (len(secret) < 50 or secret.startswith(("dev-only", "django-insecure"))):
        problems.append("SECRET_KEY is too short or a development key: use 50 or more random characters.")
    audit_key = required("PIF_AUDIT_KEY", "32 or more random characters that seal the audit trail (ADR 0010).")
    if audit_key and len(audit_key) < 32:
        problems.append("PIF_AUDIT_KEY is too short: use 32 or more random characters.")
    database = required("DATABASE_URL", "the PostgreSQL database, e.g. postgres://pif:secret@db.example.org/pif.")
    if database and urlsplit(database).scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        problems.append(
            f"DATABASE_URL is not PostgreSQL ({urlsplit(database).scheme}://): production runs on PostgreSQL."
        )
    broker = required("CELERY_BROKER_URL", "the Redis or RabbitMQ broker, e.g. redis://127.0.0.1:6379/0.")
    if broker and urlsplit(broker).scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp"}:
        problems.append(
            f"CELERY_BROKER_URL is not Redis or RabbitMQ ({urlsplit(broker).scheme}://): the filesystem broker is "
            "for one machine in development."
        )
    required("ALLOWED_HOSTS", "the host names the site answers to, e.g. pif.example.org.")
    site = required(
        "SITE_URL", "the public address in emails, QR codes and verify links, e.g. https://pif.example.org."
    )
    if site and urlsplit(site).scheme not in {"http", "https"}:
        problems.append(f"SITE_URL must start with https:// (or http://), not {site!r}.")
    required("EMAIL_URL", "the SMTP server, e.g. smtp+tls://user:password@smtp.example.org:587.")
    for name in ("PIF_SIGNING_KEY", "PIF_SIGNING_CERT"):
        path = required(name, "the PEM file that signs the certificates (the BCP's own, from its PKI).")
        if path and not Path(path).is_file():
            problems.append(f"{name} names {path}, which is not a readable file.")
    if not _on(environ, "PIF_ALLOW_TEST_DOUBLES"):  # as the system checks pif.E001 and pif.E002
        if _on(environ, "PIF_IPPC_HUB_DOUBLE"):
            problems.append(
                "PIF_IPPC_HUB_DOUBLE is on: the local hub double would hand any exporter's certificates to anyone "
                "who names an NPPO in a header; unset it and set PIF_IPPC_HUB_URL."
            )
        if environ.get("PIF_TRACES_TRANSPORT", "").strip().endswith("LocalTracesDouble"):
            problems.append(
                "PIF_TRACES_TRANSPORT names the local TRACES double, which records CHED numbers TRACES NT never "
                "gave: name a real transport or leave it empty."
            )
    return problems


def _on(environ, name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on", "ok", "y"}  # django-environ's true


def _load_dot_env() -> None:
    """The `.env` file, as pif/settings.py reads it (values already in the environment win)."""
    if os.environ.get("PIF_READ_DOT_ENV", "true").strip().lower() in {"1", "true", "yes", "on"}:
        dot_env = ROOT / ".env"
        if dot_env.exists():
            import environ

            environ.Env.read_env(dot_env)


def check_or_exit() -> None:
    _load_dot_env()
    problems = settings_problems()
    if problems:
        print("PIF will not start: the production settings are incomplete.", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Set them in the environment (see .env.example and docs/operations.md).", file=sys.stderr)
        raise SystemExit(EXIT_SETTINGS)


def _var_dir() -> Path:
    return Path(os.environ.get("PIF_VAR_DIR") or ROOT / "var")


def commands(environ=None) -> dict[str, list[str]]:
    """The command line of each long-running process."""
    environ = os.environ if environ is None else environ
    python = sys.executable
    bind = f"{environ.get('HOST') or '127.0.0.1'}:{_positive(environ, 'PORT', 8000)}"
    schedule = Path(environ.get("PIF_BEAT_SCHEDULE") or _var_dir() / "celerybeat-schedule")
    return {
        "web": [
            python,
            "-m",
            "gunicorn",
            "pif.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(_positive(environ, "WEB_CONCURRENCY", 2 * cores() + 1)),
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--graceful-timeout",
            "20",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "pif",
            "worker",
            "--concurrency",
            str(_positive(environ, "CELERY_CONCURRENCY", cores())),
            "--loglevel",
            environ.get("LOG_LEVEL") or "INFO",
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "pif",
            "beat",
            "--schedule",
            str(schedule),
            "--pidfile=",
            "--loglevel",
            environ.get("LOG_LEVEL") or "INFO",
        ],
    }


def _beat_folder(line: list[str]) -> None:
    """Beat's schedule file's folder: beat fails on a missing one (a fresh PIF_VAR_DIR)."""
    Path(line[line.index("--schedule") + 1]).parent.mkdir(parents=True, exist_ok=True)


def setup_steps(collectstatic: bool = True) -> None:
    """Migrate, then collect the static files; stops at the first that fails."""
    steps = [["migrate", "--noinput"]] + ([["collectstatic", "--noinput", "--verbosity", "1"]] if collectstatic else [])
    for step in steps:
        print(f"pif.prod: manage.py {' '.join(step)}", flush=True)
        result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *step], cwd=ROOT, check=False)  # noqa: S603
        if result.returncode != 0:
            print(f"pif.prod: manage.py {step[0]} failed (exit {result.returncode}); nothing started.", file=sys.stderr)
            raise SystemExit(result.returncode)


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM if the supervisor itself is killed (no orphans)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def supervise(names=("web", "worker", "beat")) -> int:
    """Run the processes, each in a process group of its own (its children with it); stop them all together."""
    stop_timeout = float(os.environ.get("PIF_STOP_TIMEOUT") or 30)
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lines = commands()
    _beat_folder(lines["beat"])
    processes = {}
    for name in names:
        processes[name] = subprocess.Popen(  # noqa: S603  (our own command lines)
            lines[name],
            cwd=ROOT,
            stderr=subprocess.STDOUT,  # one stream: stdout
            start_new_session=True,  # Ctrl-C reaches the supervisor only, which stops each in order
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        print(f"pif.prod: started {name} (pid {processes[name].pid}): {' '.join(lines[name])}", flush=True)
    status = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"pif.prod: {name} exited with {process.returncode}: stopping the others.", flush=True)
                status = 1
                stopping = True
                break
        else:
            time.sleep(0.2)
    print("pif.prod: stopping " + ", ".join(processes), flush=True)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + stop_timeout
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"pif.prod: {name} did not stop within {stop_timeout:g} s: killed.", flush=True)
        # The group too: a worker's pool processes, gunicorn's workers, whatever outlived its parent.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    print("pif.prod: stopped.", flush=True)
    return status


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    mode = argv[0] if argv else "all"
    if mode not in {"all", "web", "worker", "beat", "migrate", "check"} or len(argv) > 1:
        print(__doc__, file=sys.stderr)
        return EXIT_SETTINGS
    os.chdir(ROOT)
    check_or_exit()
    if mode == "check":
        print("pif.prod: the production settings are complete.")
        return 0
    if mode in {"all", "migrate"}:
        setup_steps(collectstatic=mode == "all")
    if mode == "migrate":
        return 0
    if mode == "all":
        return supervise()
    line = commands()[mode]
    if mode == "beat":
        _beat_folder(line)
    sys.stdout.flush()
    os.execv(line[0], line)  # noqa: S606  (becomes the process systemd or Docker supervises)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
