"""Throughput and latency of a running PIF server, with 1 and 8 concurrent clients (threads, keep-alive).

    .venv/bin/python bench/bench_server.py --base http://127.0.0.1:8408 --token KEY [--seconds 10] [--clients 1 8]

Measures `GET /healthz` (database and broker probes, no login) and `GET /api/v1/consignments/` (token login, a
page of 25), one after the other. Start the server under test first (`make prod` or `make run`, see
bench/README.md); the figures compare servers, not machines."""

import argparse
import http.client
import statistics
import threading
import time
from urllib.parse import urlsplit


def run(base: str, path: str, headers: dict, clients: int, seconds: float) -> dict:
    parts = urlsplit(base)
    latencies, errors, lock = [], [], threading.Lock()
    stop_at = time.monotonic() + seconds
    barrier = threading.Barrier(clients)

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        barrier.wait()
        mine, bad = [], []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError as exc:  # counted as an error, not as a request served
                bad.append(exc.__class__.__name__)
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            if response.status != 200:
                bad.append(response.status)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else 0,
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000 if latencies else 0,
        "errors": len(errors),
        "error_kinds": sorted({str(e) for e in errors})[:5],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an API token of an importer (Authorization: Token …)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    paths = {
        "/healthz": {},
        "/api/v1/consignments/": {"Authorization": f"Token {args.token}", "Accept-Language": "en"},
    }
    print("| path | clients | requests/s | p50 | p95 | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path, headers in paths.items():
        for clients in args.clients:
            r = run(args.base, path, headers, clients, args.seconds)
            kinds = f" {r['error_kinds']}" if r["errors"] else ""
            figures = f"{r['rps']:.1f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['errors']}{kinds}"
            print(f"| `{path}` | {clients} | {figures} |", flush=True)


if __name__ == "__main__":
    main()
