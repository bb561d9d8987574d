"""The load generator: a separate process that sends GET requests to a server on loopback and reports latency.

    python -m benchmarks.load --base http://127.0.0.1:8400 --urls urls.json --concurrency 8 --requests 400

`urls.json` is a list of paths, or of [path, weight] pairs for a mix. Each client is a thread with its own
keep-alive connection; it takes paths round-robin (or by weight, for a mix) until the request count or the
time limit is reached. Prints one JSON object: count, errors (non-2xx and failed connections, with examples),
requests per second and client-side latency percentiles in milliseconds.

    python -m benchmarks.load --interleave --base - --urls pairs.json --requests 600

asks several servers the same question in turn from one client ([base, path] pairs; a result for each, its
requests per second being one over its mean latency), for a comparison that the machine's moments of noise
cannot tilt.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(latencies_ms: list[float]) -> dict:
    return {
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "max_ms": max(latencies_ms) if latencies_ms else None,
    }


def run(base: str, paths: list, *, concurrency: int, requests: int, duration: float) -> dict:
    parts = urlsplit(base)
    weighted = bool(paths) and isinstance(paths[0], list)
    if weighted:
        choices, weights = [p for p, _ in paths], [w for _, w in paths]
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    by_path: dict[str, list[float]] = {}
    deadline = time.perf_counter() + duration

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.perf_counter() < deadline:
            n = next(counter)
            if n >= requests:
                break
            path = rng.choices(choices, weights)[0] if weighted else paths[n % len(paths)]
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                with lock:
                    errors.append(f"{path}: {type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                by_path.setdefault(path, []).append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if not 200 <= status < 300:
                    errors.append(f"{path}: HTTP {status}")
        connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return _result(latencies, errors, statuses, wall, busy=wall, by_path=by_path)


def _result(
    latencies: list[float],
    errors: list[str],
    statuses: dict[int, int],
    wall: float,
    *,
    busy: float,
    by_path: dict[str, list[float]] | None = None,
) -> dict:
    """What a run prints: counts, errors, requests per second over `busy` seconds, latency percentiles, and where
    several paths were asked, the one whose p95 was the worst."""
    worst = {}
    if by_path and len(by_path) > 1:
        path = max(by_path, key=lambda p: percentile(by_path[p], 95))
        worst = {"worst": {"path": path, "p95_ms": percentile(by_path[path], 95)}}
    return {
        "count": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "statuses": statuses,
        "seconds": round(wall, 3),
        "rps": round(len(latencies) / busy, 1) if busy else None,
        **summary(latencies),
        **worst,
    }


def run_interleaved(targets: list[list], *, requests: int, duration: float) -> list[dict]:
    """One client asking each of `targets` ([base, path] pairs: a server each; a list of paths is asked path
    after path) in turn, one request at a time, over a keep-alive connection to each: their latencies are
    measured in the same moments, so that a machine busy for a while slows each alike. Gives a result per
    target, as `run` gives one."""
    connections: dict[str, http.client.HTTPConnection] = {}
    latencies: list[list[float]] = [[] for _ in targets]
    errors: list[list[str]] = [[] for _ in targets]
    statuses: list[dict[int, int]] = [{} for _ in targets]
    by_path: list[dict[str, list[float]]] = [{} for _ in targets]
    began = time.perf_counter()
    deadline = began + duration
    for n in range(requests):
        if time.perf_counter() >= deadline:
            break
        index = n % len(targets)
        base, path = targets[index]
        if isinstance(path, list):
            path = path[(n // len(targets)) % len(path)]
        connection = connections.get(base)
        if connection is None:
            parts = urlsplit(base)
            connection = connections[base] = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=30
            )
        start = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            del connections[base]
            errors[index].append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        latencies[index].append((time.perf_counter() - start) * 1000)
        by_path[index].setdefault(path, []).append(latencies[index][-1])
        statuses[index][response.status] = statuses[index].get(response.status, 0) + 1
        if not 200 <= response.status < 300:
            errors[index].append(f"{path}: HTTP {response.status}")
    wall = time.perf_counter() - began
    for connection in connections.values():
        connection.close()
    # Each target's requests per second: one over its mean latency (the client waits on one server at a time).
    return [
        _result(latencies[i], errors[i], statuses[i], wall, busy=sum(latencies[i]) / 1000, by_path=by_path[i])
        for i in range(len(targets))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--urls", required=True, help="a JSON file: paths, or [path, weight] pairs")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds at most")
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="urls.json holds [base, path] pairs: one client asks each in turn (--base is not read)",
    )
    args = parser.parse_args(argv)
    with open(args.urls) as f:
        paths = json.load(f)
    if args.interleave:
        json.dump(run_interleaved(paths, requests=args.requests, duration=args.duration), sys.stdout)
        return 0
    result = run(
        args.base, paths, concurrency=args.concurrency, requests=args.requests, duration=args.duration
    )
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
