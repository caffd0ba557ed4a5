"""Benchmark harness: a fresh database per backend, Django set up on it, and small timing helpers.

Each benchmark runs once per backend in a child process (`run_per_backend`), so that SQLite and PostgreSQL
figures come from one command and one table."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Names of the throwaway PostgreSQL databases (a shared server may reserve a prefix to each user).
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "pif_bench_")


def backends() -> dict[str, str]:
    """Backend name -> DATABASE_URL of a fresh database (PostgreSQL only where a server answers)."""
    found = {"sqlite": f"sqlite:///{tempfile.mkdtemp(prefix='pif-bench-')}/bench.sqlite3"}
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=2, autocommit=True) as conn:
            name = f"{PG_PREFIX}{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
        found["postgresql"] = f"{PG_SERVER}/{name}"
    except Exception as exc:  # no server: say so, measure what we can
        print(f"(PostgreSQL not measured: {exc.__class__.__name__}: {exc})", file=sys.stderr)
    return found


def drop(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    """Call in the child process, before importing models."""
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        PIF_AUDIT_KEY="bench-only-audit-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        SECURE_SSL_REDIRECT="false",
        STATIC_MANIFEST="false",
        PIF_READ_DOT_ENV="false",
        PIF_VAR_DIR=tempfile.mkdtemp(prefix="pif-bench-var-"),
        API_THROTTLE_USER="1000000/min",
        EMAIL_URL="dummymail://",
        DJANGO_SETTINGS_MODULE="pif.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def run_per_backend(script: str, *args: str) -> list[dict]:
    """Run `script --child URL args` once per backend; each child prints one JSON line of results."""
    results = []
    for backend, url in backends().items():
        try:
            out = subprocess.run(
                [sys.executable, script, "--child", url, *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            results.append({"backend": backend, **json.loads(out.strip().splitlines()[-1])})
        except subprocess.CalledProcessError as exc:
            print(exc.stderr, file=sys.stderr)
            raise
        finally:
            drop(url)
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(durations: list[float]) -> dict:
    return {
        "n": len(durations),
        "per_second": round(len(durations) / sum(durations), 1),
        "median_ms": round(statistics.median(durations) * 1000, 2),
        "p95_ms": round(percentile(durations, 95) * 1000, 2),
    }


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns), "-+-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
