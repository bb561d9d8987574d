"""Instructions per request of each scenario, counted by valgrind: a measure the machine's drifting speed does not
move, for telling whether a change made the catalog's own work (Python, in the web process) smaller.

    python -m benchmarks.instructions [--requests 6] [--root OTHER_CHECKOUT] [SCENARIO ...]

It reads the catalog `make bench` left in BENCH_DATABASE_URL (it builds nothing) and asks each scenario's URLs of
benchmarks/run.py through Django's WSGI handler with the production settings, in a process under
`valgrind --tool=callgrind`: once with 3 warm-up requests, once with those and `--requests` more; the difference
over the count is one request's instructions. Instructions are not time: PostgreSQL's and Redis's work is in
their own processes and not counted, and a cache miss costs more than an instruction. `--root` counts another
checkout (say a worktree of an older commit) with this interpreter, on the same catalog and URLs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WARM = 3


def _child(root: Path, paths_file: Path, name: str, count: int) -> None:
    """In the process valgrind watches: serve WARM + count requests of the scenario `name`."""
    sys.path.insert(0, str(root))
    os.chdir(root)
    import django

    django.setup()
    import logging
    from urllib.parse import unquote

    from django.core.handlers.wsgi import WSGIHandler

    logging.disable(logging.WARNING)
    handler = WSGIHandler()
    urls = json.loads(paths_file.read_text())[name]
    for i in range(WARM + count):
        path, _, query = urls[i % len(urls)].partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": unquote(path).encode().decode("latin-1"), "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "HTTP_ACCEPT": "*/*",
        }  # fmt: skip
        status: list[str] = []
        b"".join(handler(environ, lambda s, h, exc=None, status=status: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{name}: {urls[i % len(urls)]} answered {status[0]}")


def _collected(root: Path, paths_file: Path, name: str, count: int, env: dict[str, str]) -> int:
    out = paths_file.with_name(f"callgrind-{count}.out")
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, "--child",
         str(root), str(paths_file), name, str(count)],
        cwd=root, env=env, capture_output=True, text=True,
    )  # fmt: skip
    out.unlink(missing_ok=True)
    match = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or match is None:
        raise SystemExit(f"{name}: the counted run failed:\n{run.stderr[-2000:]}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import ROOT, WORK, django_setup, log, production_env, scenarios

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help="scenario names of benchmarks/run.py (default: all)")
    parser.add_argument("--requests", type=int, default=6, help="requests counted per scenario")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to count (default: this one)")
    args = parser.parse_args(argv)
    args.root = args.root.resolve()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    django_setup()
    from catalog.models import Model

    total = Model.objects.count()
    if not total:
        raise SystemExit("the benchmark's catalog is empty: run `make bench` (or bench-quick) first")
    paths = scenarios(total)
    unknown = [name for name in args.scenarios if name not in paths]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}: {', '.join(paths)}")
    paths_file = WORK / "paths.json"
    paths_file.write_text(json.dumps(paths))
    env = production_env()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=args.root, env=env,
                   check=True)  # fmt: skip
    log(f"counting {args.root} on {total} models, {args.requests} requests a scenario")
    for name in args.scenarios or list(paths):
        with ThreadPoolExecutor(2) as pool:  # the two counted runs side by side: counts do not depend on load
            base, more = pool.map(
                lambda n, name=name: _collected(args.root, paths_file, name, n, env), (0, args.requests)
            )
        print(
            f"{name:32s} {(more - base) / args.requests / 1e6:8.1f} million instructions a request",
            flush=True,
        )
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        raise SystemExit(main())
