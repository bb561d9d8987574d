"""The catalog's benchmark: `make bench` (N=10,000 and 100,000), `make bench-quick` (10,000), `make bench-smoke`.

    python -m benchmarks.run [--sizes 10000,100000] [--requests 300] [--smoke] [--no-peer] [--no-ingest]

It drops and creates the PostgreSQL database BENCH_DATABASE_URL (default catalog_bench, by PostgreSQL's Unix socket
where it has one, else on 127.0.0.1), then:
1. ingest: the corpus's 4,484 Civitai models in-process and through a Celery worker on Redis, each again with
   nothing changed; thumbnails per second for the image task (JPEGs served on loopback);
2. for each N: builds the catalog from the corpus (benchmarks/catalog_data.py) and times it; serves it with
   gunicorn (config/gunicorn.conf.py) and the production settings on loopback; a load generator in another
   process (benchmarks/load.py) sends each scenario at concurrency 1 and 8; gunicorn's access log gives the
   server-side time of each request; the SQL queries of each scenario are counted in-process; the web workers'
   peak memory is read;
3. the peer, at each N: the same catalog exported to SQLite with an FTS5 index and served by Datasette, under
   the same load generator, beside the catalog's API list and search and its list page;
4. growth: a copy of the first N's database is kept while the catalog grows; at the last N both are served
   and each scenario is asked of the two in turn, request by request (growth_figures): the growth judged;
5. connection, at each N: a few scenarios asked in turn of a server on PostgreSQL's socket and one over TCP;
6. the load test: 50 clients for 60 seconds mixing pages and API while a crawl ingests from a loopback
   stand-in for Civitai; zero errors expected;
7. writes benchmarks/results/<date>-<sizes>.md and .json, and the table into README.md (not for a smoke run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from benchmarks.load import percentile, summary

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CATALOG_CORPUS", ROOT.parent / "shared" / "corpus"))
RESULTS = ROOT / "benchmarks" / "results"
# PostgreSQL on this host, reached by its Unix socket where the server keeps one in the usual place (as the
# README advises for a catalog beside its database), else on 127.0.0.1: on a machine whose kernel paces TCP
# with BBR, a query after a large answer on the same loopback connection could wait 16-40 ms
# (connection_figures).
PG_SOCKET_DIR = "/var/run/postgresql"
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    f"postgres://postgres@/catalog_bench?host={PG_SOCKET_DIR}"
    if Path(PG_SOCKET_DIR, ".s.PGSQL.5432").exists()
    else "postgres://postgres@127.0.0.1:5432/catalog_bench",
)
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WORK = Path(tempfile.mkdtemp(prefix="catalog-bench-"))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, database_url: str | None = None, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url or BENCH_DATABASE_URL,
        "CELERY_BROKER_URL": BENCH_REDIS_URL,
        "CACHE_URL": BENCH_REDIS_URL.rsplit("/", 1)[0] + "/12",
        "IMAGE_MIRROR_ON_INGEST": "false",
        "MEDIA_ROOT": str(WORK / "media"),
        "STATIC_ROOT": str(WORK / "static"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def production_env(*, database_url: str | None = None) -> dict[str, str]:
    """The environment the catalog is served with here: the production settings on loopback."""
    return server_env(
        database_url=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="benchmark-only-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        API_ANON_RATE="100000000/minute",
    )


# --- the database ---------------------------------------------------------------------------------------


def database_url(name: str, url: str = BENCH_DATABASE_URL) -> str:
    """`url` naming the database `name` instead (its host, socket and options kept)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{name}" + (f"?{parts.query}" if parts.query else "")


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def over_socket(url: str) -> bool:
    """Whether `url` reaches PostgreSQL by a Unix socket (a host that is a folder), as libpq reads it."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    return host.startswith("/") or (not host and not parts.port)


def _on_server(*statements: str) -> None:
    """Statements run on the benchmark's PostgreSQL server, outside any of its databases (made, copied, dropped)."""
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def database_reset(sizes: list[int] = ()) -> None:
    """The benchmark's database dropped and made again empty, and the copies of earlier sizes dropped."""
    name = database_name(BENCH_DATABASE_URL)
    _on_server(
        *(f'DROP DATABASE IF EXISTS "{name}_{size}" WITH (FORCE)' for size in sizes),
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )


def database_copy(size: int) -> str:
    """A copy of the benchmark's catalog as it is now (N=`size`), kept beside it while it grows, so that the
    sizes can be asked in turn (growth_figures). Its URL."""
    from django.db import connections

    connections.close_all()  # a database is copied with no one connected to it
    name = database_name(BENCH_DATABASE_URL)
    _on_server(
        f'DROP DATABASE IF EXISTS "{name}_{size}" WITH (FORCE)',
        f'CREATE DATABASE "{name}_{size}" TEMPLATE "{name}"',
    )
    return database_url(f"{name}_{size}")


def database_drop(url: str) -> None:
    _on_server(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def django_setup() -> None:
    os.environ.update(
        server_env(DJANGO_SETTINGS_MODULE="config.settings.base", CELERY_TASK_ALWAYS_EAGER="false")
    )
    os.environ["INGEST_ALLOWED_HOSTS"] = "127.0.0.1"
    # The queries counted in this process (query_counts) come from the address the load comes from, whose
    # throttle history the servers share in Redis: the same rate as theirs, or the second size is refused.
    os.environ["API_ANON_RATE"] = production_env()["API_ANON_RATE"]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def catalog_empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_model, catalog_modelversion, catalog_modelfile, catalog_image, catalog_creator, "
            "catalog_tag, catalog_sourcerecord, catalog_ingestrun, catalog_model_tags RESTART IDENTITY CASCADE"
        )


def analyze() -> float:
    """VACUUM ANALYZE, then a CHECKPOINT: without it, the checkpoint the load's WAL set off writes its pages out,
    spread over minutes, while the requests are timed (seen here: 245 s of writes over a whole N=10,000 run)."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - began


# --- 1. ingest ------------------------------------------------------------------------------------------


def ingest_figures(*, limit: int | None, thumbnails: int) -> dict:
    from catalog.models import IngestRun
    from ingest.pipeline import ingest_run_execute
    from ingest.runs import ingest_run_create
    from ingest.tasks import ingest_run_queue

    source = CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz"
    if limit:
        import gzip

        part = WORK / "corpus-part.jsonl"
        part.write_bytes(b"".join(gzip.open(source).readlines()[:limit]))
        source = part
    results: dict = {"source": str(source.name)}

    def timed_in_process(label: str) -> None:
        began = time.perf_counter()
        run = ingest_run_execute(ingest_run_create(kind="cli", sources=[str(source)], local_files=True))
        seconds = time.perf_counter() - began
        done = run.created_count + run.updated_count + run.unchanged_count
        results[label] = _ingest_row(run, seconds, done)
        log(
            f"ingest {label}: {done} models in {seconds:.1f}s ({done / seconds:.0f}/s), {run.failed_count} failed"
        )

    catalog_empty()
    from config.runtime import freeze_loaded_objects

    freeze_loaded_objects()  # as `manage.py ingest` and the Celery worker do before they ingest
    timed_in_process("in-process")
    timed_in_process("in-process, unchanged")

    catalog_empty()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1", "-P", "solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=ROOT, env=server_env(DJANGO_SETTINGS_MODULE="config.settings.base", CELERY_TASK_ALWAYS_EAGER="false"),
        stdout=(WORK / "worker.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for label in ("Celery worker", "Celery worker, unchanged"):
            from django.db import transaction

            began = time.perf_counter()
            with transaction.atomic():
                run = ingest_run_queue(kind="cli", sources=[str(source)], local_files=True)
            while IngestRun.objects.get(pk=run.pk).status in ("queued", "running"):
                if worker.poll() is not None:
                    raise SystemExit(f"the Celery worker stopped: see {WORK / 'worker.log'}")
                if time.perf_counter() - began > 600:
                    raise SystemExit("the Celery worker did not finish the ingest in 10 minutes")
                time.sleep(0.05)
            seconds = time.perf_counter() - began
            run.refresh_from_db()
            done = run.created_count + run.updated_count + run.unchanged_count
            results[label] = _ingest_row(run, seconds, done)
            log(
                f"ingest {label}: {done} models in {seconds:.1f}s from queueing to done ({done / seconds:.0f}/s)"
            )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    results["thumbnails"] = thumbnail_figures(thumbnails)
    catalog_empty()
    return results


def _ingest_row(run, seconds: float, done: int) -> dict:
    return {
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "failed": run.failed_count,
        "seconds": round(seconds, 2),
        "models_per_second": round(done / seconds, 1) if seconds else None,
    }


class _ImageHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def thumbnail_figures(count: int) -> dict:
    """The image task on `count` real sample images of the catalog, pointed at 1024x1536 JPEGs on loopback."""
    import io

    from PIL import Image as PILImage

    from catalog.models import Image
    from ingest.images import image_mirror

    rng = random.Random(7)
    picture = PILImage.new("RGB", (1024, 1536))
    picture.putdata([(rng.randrange(256), x % 256, 128) for x in range(1024 * 1536)])
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    _ImageHandler.body = buffer.getvalue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    ids = list(Image.objects.order_by("pk").values_list("pk", flat=True)[:count])
    for pk in ids:
        Image.objects.filter(pk=pk).update(url=f"http://127.0.0.1:{port}/images/{pk}.jpeg")
    began = time.perf_counter()
    stored = sum(1 for pk in ids if (img := image_mirror(pk)) is not None and img.thumbnail)
    seconds = time.perf_counter() - began
    server.shutdown()
    log(f"thumbnails: {stored} of {len(ids)} in {seconds:.1f}s ({stored / seconds:.1f}/s)")
    return {
        "images": len(ids),
        "stored": stored,
        "jpeg_bytes": len(_ImageHandler.body),
        "seconds": round(seconds, 2),
        "per_second": round(stored / seconds, 1) if seconds else None,
    }


# --- 2. serving -----------------------------------------------------------------------------------------


class Gunicorn:
    """gunicorn as production runs it (config/gunicorn.conf.py) with the production settings on loopback, its
    access log giving each request's time (µs) and its path."""

    static_collected = False

    def __init__(self, workers: int = 4, *, database_url: str | None = None) -> None:
        self.port = free_port()
        self.workers = workers
        self.access_log = WORK / f"access-{self.port}.log"
        env = production_env(database_url=database_url)
        if not Gunicorn.static_collected:
            # Once: collecting again while another server's workers scan the folder makes them fail to boot.
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
            Gunicorn.static_collected = True
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--access-logfile", str(self.access_log),
             "--access-logformat", "%(D)s %(s)s %(U)s?%(q)s", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=(WORK / "gunicorn.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 30
        while not self._answers():  # an answer, not only the socket: its workers may fail to boot after it
            if time.time() > deadline or self.process.poll() is not None:
                raise SystemExit(f"gunicorn did not start: see {WORK / 'gunicorn.log'}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/favicon.ico")
            return connection.getresponse().status < 500
        except OSError:
            return False
        finally:
            connection.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def _lines(self, since: int) -> list[list[str]]:
        time.sleep(0.1)  # gunicorn writes its log line after the response
        with self.access_log.open("rb") as f:
            f.seek(since)
            return [line.split() for line in f.read().decode().splitlines() if line.strip()]

    def server_summary(self, since: int) -> dict:
        """The server-side summary of the requests logged after `since`; where they asked several paths (a
        search's words), also the path whose p95 was the worst."""
        lines = self._lines(since)
        result = summary([int(fields[0]) / 1000 for fields in lines])
        by_path: dict[str, list[float]] = {}
        for fields in lines:
            by_path.setdefault(fields[2], []).append(int(fields[0]) / 1000)
        if len(by_path) > 1:
            worst = max(by_path, key=lambda path: percentile(by_path[path], 95))
            result["worst"] = {"path": worst, "p95_ms": percentile(by_path[worst], 95)}
        return result

    def worker_peak_mb(self) -> float:
        """The largest peak resident set (VmHWM) of the web workers."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        peaks = []
        for pid in children:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks), 1) if peaks else 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def load(base: str, paths: list, *, concurrency: int, requests: int, duration: float) -> dict:
    urls = WORK / f"urls-{time.monotonic_ns()}.json"
    urls.write_text(json.dumps(paths))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--base", base, "--urls", str(urls), "--concurrency",
         str(concurrency), "--requests", str(requests), "--duration", str(duration)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def load_interleaved(targets: list[list], *, requests: int, duration: float) -> list[dict]:
    """benchmarks.load's one client asking each [base, path] in turn (a list of paths: each in turn): a result
    for each."""
    urls = WORK / f"targets-{time.monotonic_ns()}.json"
    urls.write_text(json.dumps(targets))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--interleave", "--base", "-", "--urls", str(urls),
         "--requests", str(requests), "--duration", str(duration)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def scenarios(total: int) -> dict[str, list[str]]:
    """Each scenario's paths, drawn from the catalog as it is now."""
    from django.db.models import Count, Q

    from catalog.filters import ModelFilterSet
    from catalog.models import Model, ModelFile, Tag
    from catalog.pagination import cursor_for, keyset_order
    from catalog.views import PAGE_SIZE

    rng = random.Random(total)
    words = search_words(total)
    tag = (
        Tag.objects.annotate(n=Count("models", filter=Q(models__type="Checkpoint")))
        .order_by("-n")
        .first()
        .name
    )
    ordering = ModelFilterSet({}, queryset=Model.objects.all()).ordering()
    deep_offset = min(500 * PAGE_SIZE, max(0, total - 2 * PAGE_SIZE))
    deep_row = keyset_order(Model.objects.filter(hidden=False), ordering)[deep_offset]
    slugs = dict(Model.objects.values_list("pk", "slug"))
    many = list(
        Model.objects.annotate(n=Count("versions")).filter(n__gte=20).values_list("pk", flat=True)[:20]
    )
    cards = rng.sample(sorted(slugs), min(200, len(slugs))) + many
    rng.shuffle(cards)

    def card(pk: int) -> str:
        return f"/models/{pk}/{quote(slugs[pk])}/"

    hashes = list(
        ModelFile.objects.exclude(hash_sha256__isnull=True)
        .order_by("?")
        .values_list("hash_sha256", flat=True)[:200]
    )
    return {
        "list page": ["/"],
        "search page": [f"/?query={quote(word)}" for word in words],
        "search page by downloads": [f"/?query={quote(word)}&sort=downloads" for word in words],
        "filtered list page": ["/?" + urlencode({"type": "Checkpoint", "base_model": "SD 1.5", "tag": tag})],
        "deep page (~500 pages in)": [f"/?cursor={cursor_for(deep_row, ordering)}"],
        "model card": [card(pk) for pk in cards],
        "model card, 20+ versions": [card(pk) for pk in many] or [card(cards[0])],
        "API list (limit 100)": ["/api/models/?limit=100"],
        "API search": [f"/api/models/?query={quote(word)}&limit=20" for word in words],
        "API search by downloads": [
            f"/api/models/?query={quote(word)}&sort=downloads&limit=20" for word in words
        ],
        "API detail": [f"/api/models/{pk}/" for pk in cards],
        "hash lookup": [f"/api/files/by-hash/{h}/" for h in hashes],
        "Civitai API search": [f"/api/v1/models?query={quote(word)}&limit=20" for word in words],
    }


_WORDS: list[str] = []
WORDS_SEED = 20261208


def search_words(total: int) -> list[str]:
    """Thirty search words drawn from the catalog's own model names and tags by how many models hold them, with a
    fixed seed: the 10 most frequent, 10 of middling frequency (held by 0.1-1% of the models) and 10 rare ones
    (held by one or two). Drawn at the first size measured and kept, so that every size answers the same
    questions."""
    if _WORDS:
        return _WORDS
    import re
    from collections import Counter

    from catalog.models import Model

    words_of: dict[int, set[str]] = {}
    for pk, name in Model.objects.filter(hidden=False).values_list("pk", "name"):
        words_of[pk] = set(re.findall(r"[^\W_]+", name.lower()))
    for pk, tag in Model.tags.through.objects.filter(model__hidden=False).values_list(
        "model_id", "tag__name"
    ):
        words_of[pk].update(re.findall(r"[^\W_]+", tag.lower()))
    held = Counter(
        word for words in words_of.values() for word in words if len(word) > 1 and not word.isdigit()
    )
    ranked = sorted(held, key=lambda word: (-held[word], word))
    rng = random.Random(WORDS_SEED)
    middling = sorted(word for word in ranked if total / 1000 <= held[word] <= total / 100)
    rare = sorted(word for word in ranked if held[word] <= 2)
    bands = {
        "frequent": ranked[:10],
        "middling": rng.sample(middling, min(10, len(middling))),
        "rare": rng.sample(rare, min(10, len(rare))),
    }
    for band, words in bands.items():
        log(f"search words, {band}: " + ", ".join(f"{word} ({held[word]})" for word in words))
        _WORDS.extend(words)
    return _WORDS


def query_counts(paths: dict[str, list[str]]) -> dict[str, int]:
    """SQL queries of each scenario's first path, counted in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    client = Client(HTTP_HOST="127.0.0.1")
    for name, urls in paths.items():
        client.get(urls[0])  # caches (facets, sessions) warm, as on a serving site
        with CaptureQueriesContext(connection) as queries:
            response = client.get(urls[0])
        if response.status_code != 200:
            raise SystemExit(f"{name}: {urls[0]} answered {response.status_code}")
        counts[name] = len(queries)
    return counts


def serve_and_measure(total: int, *, requests: int, duration: float) -> dict:
    paths = scenarios(total)
    counts = query_counts(paths)
    server = Gunicorn()
    rows = {}
    try:
        for name, urls in paths.items():
            load(
                server.base, urls, concurrency=2, requests=min(40, requests), duration=5
            )  # warm every worker
            row = {"queries": counts[name]}
            for concurrency in (1, 8):
                since = server.log_offset()
                client = load(
                    server.base, urls, concurrency=concurrency, requests=requests * concurrency // 2 + requests // 2,
                    duration=duration,
                )  # fmt: skip
                server_side = server.server_summary(since)
                row[f"c{concurrency}"] = {"client": client, "server": server_side}
                if client["errors"]:
                    log(
                        f"  {name} c={concurrency}: {client['errors']} errors, e.g. {client['error_examples'][:2]}"
                    )
            rows[name] = row
            log(
                f"  {name}: server p95 {row['c1']['server']['p95_ms']:.1f} ms at c=1, "
                f"{row['c8']['client']['rps']:.0f} req/s at c=8, {counts[name]} queries"
            )
        peak = server.worker_peak_mb()
    finally:
        server.stop()
    return {"scenarios": rows, "worker_peak_mb": peak, "paths": paths}


def asked_in_turn(
    servers: tuple[Gunicorn, Gunicorn],
    paths: dict[str, tuple[list[str], list[str]]],
    *,
    requests: int,
    duration: float,
) -> dict[str, tuple[dict, dict]]:
    """Each scenario asked of two servers in turn, one client asking them request by request (`load.py
    --interleave`), each server its own paths: their server-side summaries (gunicorn's access logs). The
    servers are stopped after."""
    rows = {}
    try:
        for name, pair in paths.items():
            for server, urls in zip(servers, pair, strict=True):
                load(server.base, urls, concurrency=2, requests=min(40, requests), duration=5)  # warm
            since = [server.log_offset() for server in servers]
            load_interleaved(
                [[server.base, urls] for server, urls in zip(servers, pair, strict=True)],
                requests=2 * requests, duration=2 * duration,
            )  # fmt: skip
            first, second = (
                server.server_summary(offset) for server, offset in zip(servers, since, strict=True)
            )
            rows[name] = (first, second)
    finally:
        for server in servers:
            server.stop()
    return rows


def _ratios(first: dict, second: dict) -> dict:
    return {
        f"{q}_ratio": round(second[f"{q}_ms"] / first[f"{q}_ms"], 2) if first[f"{q}_ms"] else None
        for q in ("p95", "p50")
    }


def growth_figures(
    small: tuple[int, str, dict[str, list[str]]],
    large: tuple[int, dict[str, list[str]]],
    *,
    requests: int,
    duration: float,
) -> dict:
    """Each scenario asked of both sizes in turn: a server on the copy of the smaller catalog (database_copy) and
    one on the larger, one client asking them request by request, each size its own scenario's paths. Asked
    minutes apart, as the per-size tables are, a machine whose speed drifts (another guest on the same host)
    moved the ratio of the two by itself: the list page's p95 went ×1.01 in one run and ×2.01 in the next with
    the same code. Asked in turn, a busy moment slows both alike. The ratio of their server-side p95 is the
    growth the report judges."""
    (small_n, small_url, small_paths), (large_n, large_paths) = small, large
    pairs = {name: (small_paths[name], large_paths[name]) for name in large_paths}
    servers = Gunicorn(database_url=small_url), Gunicorn()
    asked = asked_in_turn(servers, pairs, requests=requests, duration=duration)
    rows = {}
    for name, (small_row, large_row) in asked.items():
        rows[name] = {str(small_n): small_row, str(large_n): large_row, **_ratios(small_row, large_row)}
        log(
            f"  growth, asked in turn, {name}: p95 {small_row['p95_ms']:.1f} -> {large_row['p95_ms']:.1f} ms "
            f"(x{rows[name]['p95_ratio']}; p50 x{rows[name]['p50_ratio']})"
        )
    return {"sizes": [small_n, large_n], "scenarios": rows}


# The scenarios asked over both connections (connection_figures): one to five SQL round trips each.
CONNECTION_SCENARIOS = ("list page", "model card", "API search", "Civitai API search")


def tcp_database_url() -> str | None:
    """The benchmark's database over TCP on 127.0.0.1 (PostgreSQL's port), when the benchmark reaches it by its
    Unix socket and the server also listens there; None otherwise."""
    import psycopg

    if not over_socket(BENCH_DATABASE_URL):
        return None
    parts = urlsplit(BENCH_DATABASE_URL)
    query = parse_qs(parts.query)
    options = {k: v for k, v in query.items() if k not in ("host", "port")}
    port = query.get("port", ["5432"])[0]
    user, at, _ = parts.netloc.rpartition("@")
    url = f"{parts.scheme}://{user}{at}127.0.0.1:{port}{parts.path}"
    url += ("?" + urlencode(options, doseq=True)) if options else ""
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error:
        return None
    return url


def connection_figures(
    size: int, paths: dict[str, list[str]], *, requests: int, duration: float
) -> dict | None:
    """A few scenarios asked in turn of a server connected to PostgreSQL by its Unix socket (as the benchmark
    serves) and one connected over loopback TCP, on the same catalog: what the connection costs on this machine.
    On a kernel pacing TCP with BBR (this machine's `net.ipv4.tcp_congestion_control`), a query that followed a
    large answer on the same connection waited 16-40 ms, in one Civitai search in seven replayed on the
    10,000-model catalog (tcpdump: the server's answer held back; none with cubic, none over the socket); how
    often depends on the answers' sizes. None when there is no TCP twin."""
    tcp_url = tcp_database_url()
    if tcp_url is None:
        log("  connection: the benchmark's database is not reached by a socket with a TCP twin; skipped")
        return None
    pairs = {name: (paths[name], paths[name]) for name in CONNECTION_SCENARIOS if name in paths}
    servers = Gunicorn(), Gunicorn(database_url=tcp_url)
    asked = asked_in_turn(servers, pairs, requests=requests, duration=duration)
    rows = {}
    for name, (socket_row, tcp_row) in asked.items():
        rows[name] = {"socket": socket_row, "tcp": tcp_row, **_ratios(socket_row, tcp_row)}
        log(
            f"  connection, asked in turn, {name}: p95 {socket_row['p95_ms']:.1f} (socket) vs "
            f"{tcp_row['p95_ms']:.1f} ms (TCP)"
        )
    return {"size": size, "tcp_url": tcp_url, "scenarios": rows}


# --- 3. the peer ----------------------------------------------------------------------------------------


def export_sqlite(path: Path) -> float:
    """The catalog's models as one SQLite table with an FTS5 index, the way one would browse it in Datasette."""
    import sqlite3

    from django.db import connection

    began = time.perf_counter()
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT, type TEXT, base_model TEXT, creator TEXT, "
        "tags TEXT, download_count INTEGER, favorite_count INTEGER, rating REAL, nsfw INTEGER, "
        "published_at TEXT, search_text TEXT)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT m.id, m.name, m.type,
                   (SELECT v.base_model FROM catalog_modelversion v WHERE v.model_id = m.id ORDER BY v.position LIMIT 1),
                   c.username,
                   (SELECT string_agg(t.name, ', ') FROM catalog_model_tags mt
                      JOIN catalog_tag t ON t.id = mt.tag_id WHERE mt.model_id = m.id),
                   m.download_count, m.favorite_count, m.rating, m.nsfw::int, m.published_at::text, m.search_text
            FROM catalog_model m LEFT JOIN catalog_creator c ON c.id = m.creator_id
            """
        )
        while rows := cursor.fetchmany(5000):
            db.executemany("INSERT INTO models VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    for column in ("type", "base_model", "download_count", "creator"):
        db.execute(f"CREATE INDEX models_{column} ON models ({column})")
    db.execute(
        "CREATE VIRTUAL TABLE models_fts USING fts5 (name, tags, search_text, content='models', content_rowid='id')"
    )
    db.execute(
        "INSERT INTO models_fts (rowid, name, tags, search_text) SELECT id, name, tags, search_text FROM models"
    )
    db.commit()
    db.close()
    return time.perf_counter() - began


def peer_figures(total: int, *, requests: int, duration: float) -> dict | None:
    """The same questions asked of Datasette (the catalog in SQLite with FTS5) and of the catalog in turn; the
    searches over the thirty words of search_words, each in Datasette's own order and by downloads."""
    if shutil.which("datasette", path=str(Path(sys.executable).parent)) is None:
        log("Datasette is not installed (pip install -e '.[dev]'): the peer is skipped")
        return None
    words = search_words(total)
    path = WORK / "bench.db"
    seconds = export_sqlite(path)
    log(f"peer: exported {total} models to SQLite with FTS5 in {seconds:.1f}s")
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "datasette"), "serve", str(path), "--port", str(port), "--setting",
         "suggest_facets", "off", "--setting", "default_page_size", "20", "--setting", "sql_time_limit_ms", "5000"],
        stdout=(WORK / "datasette.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = Gunicorn()

    def each(theirs: str, ours: str) -> tuple[list[str], list[str]]:
        return [theirs.format(quote(w)) for w in words], [ours.format(quote(w)) for w in words]

    pairs = {
        "list (JSON)": (["/bench/models.json?_sort_desc=download_count&_size=20"], ["/api/models/?limit=20"]),
        "search (JSON)": each("/bench/models.json?_search={}&_size=20", "/api/models/?query={}&limit=20"),
        # The same question to the letter: the 20 most downloaded models that match (the row above asks each
        # for its own default order, Datasette's unranked against the catalog's ranking).
        "search, most downloaded (JSON)": each(
            "/bench/models.json?_search={}&_sort_desc=download_count&_size=20",
            "/api/models/?query={}&sort=downloads&limit=20",
        ),
        "facets (JSON)": (
            ["/bench/models.json?_facet=type&_facet=base_model&_size=20"],
            ["/api/models/?limit=20&type=Checkpoint"],
        ),
        "list (HTML)": (["/bench/models?_sort_desc=download_count"], ["/"]),
        "search (HTML)": each("/bench/models?_search={}", "/?query={}"),
        "search, most downloaded (HTML)": each(
            "/bench/models?_search={}&_sort_desc=download_count", "/?query={}&sort=downloads"
        ),
    }
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit(f"Datasette did not start: see {WORK / 'datasette.log'}") from None
                time.sleep(0.2)
        rows = {}
        for name, (theirs, ours) in pairs.items():
            row = {"datasette_paths": theirs, "catalog_paths": ours}
            targets = (("datasette", f"http://127.0.0.1:{port}", theirs), ("catalog", server.base, ours))
            for _, base, paths_ in targets:  # every worker has answered every path
                load(base, paths_, concurrency=4, requests=max(40, 4 * len(paths_)), duration=10)
            # Concurrency 1: one client asks the two in turn, so that they are timed in the same moments.
            alike = load_interleaved(
                [[base, paths_] for _, base, paths_ in targets], requests=2 * requests, duration=2 * duration
            )
            for (who, _, _), result in zip(targets, alike, strict=True):
                row[f"{who}_c1"] = result
            for who, base, paths_ in targets:
                row[f"{who}_c8"] = load(base, paths_, concurrency=8, requests=requests, duration=duration)
            ratio = row["catalog_c1"]["p95_ms"] / row["datasette_c1"]["p95_ms"]
            row["p95_ratio_c1"] = round(ratio, 2)
            row["p50_ratio_c1"] = round(row["catalog_c1"]["p50_ms"] / row["datasette_c1"]["p50_ms"], 2)
            row["rps_ratio_c8"] = round(row["catalog_c8"]["rps"] / row["datasette_c8"]["rps"], 2)
            rows[name] = row
            log(
                f"  peer {name}: catalog p95 {row['catalog_c1']['p95_ms']:.1f} ms vs Datasette "
                f"{row['datasette_c1']['p95_ms']:.1f} ms (x{ratio:.2f}; p50 x{row['p50_ratio_c1']:.2f})"
            )
    finally:
        process.terminate()
        process.wait(10)
        server.stop()
    return {"search_words": words, "export_seconds": round(seconds, 1), "pairs": rows}


# --- 4. the load test -----------------------------------------------------------------------------------


def load_test(total: int, *, clients: int, seconds: float, crawl_models: int) -> dict:
    """`clients` clients for `seconds` mixing pages and API, while a Celery worker crawls a loopback stand-in."""
    from catalog.models import IngestRun
    from ingest.pipeline import crawl_source
    from ingest.tasks import ingest_run_queue

    paths = scenarios(total)
    mix = [
        [p, weight]
        for name, weight in (
            ("list page", 3), ("search page", 3),
            ("filtered list page", 1), ("model card", 4), ("API list (limit 100)", 1), ("API search", 1),
            ("API detail", 2), ("hash lookup", 2), ("Civitai API search", 1),
        )
        for p in paths[name][:50]
    ]  # fmt: skip
    standin = CivitaiStandin(crawl_models)
    server = Gunicorn()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1", "-P", "solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=ROOT, env=server_env(DJANGO_SETTINGS_MODULE="config.settings.base", CELERY_TASK_ALWAYS_EAGER="false",
                                 CIVITAI_BASE_URL=standin.base, INGEST_ALLOWED_HOSTS="127.0.0.1",
                                 INGEST_BATCH_SIZE="100"),
        stdout=(WORK / "worker-load.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        from django.db import transaction

        with transaction.atomic():
            run = ingest_run_queue(
                kind="crawl", sources=[crawl_source("civitai", {"limit": "100"}, crawl_models)]
            )
        since = server.log_offset()
        result = load(server.base, mix, concurrency=clients, requests=10**9, duration=seconds)
        server_side = server.server_summary(since)
        began = time.perf_counter()
        while (
            IngestRun.objects.get(pk=run.pk).status in ("queued", "running")
            and time.perf_counter() - began < 300
        ):
            time.sleep(0.2)
        run.refresh_from_db()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        server.stop()
        standin.stop()
    log(
        f"load test: {result['count']} requests by {clients} clients in {result['seconds']}s, "
        f"{result['errors']} errors, p99 {result['p99_ms']:.0f} ms; crawl {run.status}: "
        f"{run.created_count} created, {run.failed_count} failed"
    )
    return {
        "clients": clients,
        "seconds": seconds,
        "client": result,
        "server": server_side,
        "crawl": {
            "status": run.status,
            "created": run.created_count,
            "updated": run.updated_count,
            "unchanged": run.unchanged_count,
            "failed": run.failed_count,
        },
    }


class CivitaiStandin:
    """/api/v1/models on loopback, with Civitai's cursor paging, serving the corpus's models under new ids."""

    def __init__(self, count: int) -> None:
        import gzip

        lines = gzip.open(CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz").read().splitlines()
        items = []
        for i in range(count):
            item = json.loads(lines[i % len(lines)])
            offset = 90 * 100_000_000 + (i // len(lines)) * 100_000_000
            item["id"] += offset
            for version in item.get("modelVersions") or []:
                version["id"] += offset
                for file in version.get("files") or []:
                    if isinstance(file.get("id"), int):
                        file["id"] += offset
                for image in version.get("images") or []:
                    if isinstance(image.get("id"), int):
                        image["id"] += offset
            items.append(item)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlsplit

                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != "/api/v1/models":
                    self.send_error(404)
                    return
                start = int(query.get("cursor", ["0"])[0])
                size = int(query.get("limit", ["100"])[0])
                page = items[start : start + size]
                more = start + size < len(items)
                metadata = {"nextCursor": str(start + size)} if more else {}
                if more:
                    metadata["nextPage"] = f"{standin.base}/api/v1/models?limit={size}&cursor={start + size}"
                body = json.dumps({"items": page, "metadata": metadata}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


# --- 5. the report --------------------------------------------------------------------------------------


def cpu_score() -> float:
    """Millions of simple Python operations per second on one core, the best of five runs: machines (and one
    machine on different days) differ, and this says how much, so that runs can be compared."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - began)
    return round(1.0 / best, 1)


def machine() -> dict:
    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    congestion = Path("/proc/sys/net/ipv4/tcp_congestion_control")
    models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("model name")]  # fmt: skip
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "cpu": models[0] if models else platform.processor() or platform.machine(),
        "cpu_score": cpu_score(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgresql": pg,
        "postgresql_connection": "Unix socket" if over_socket(BENCH_DATABASE_URL) else "TCP",
        "tcp_congestion_control": congestion.read_text().strip() if congestion.exists() else None,
        "date": dt.date.today().isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The catalog's benchmark (see benchmarks/README.md).")
    parser.add_argument("--sizes", default="10000,100000", help="catalog sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario at concurrency 1")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds at most per scenario run")
    parser.add_argument(
        "--smoke", action="store_true", help="N=500 and 1,000, a few requests: checks it all works"
    )
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-load-test", action="store_true")
    parser.add_argument("--load-clients", type=int, default=50)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.requests, args.duration = "500,1000", 10, 10.0
        args.load_clients, args.load_seconds = 10, 5.0
    sizes = [int(s) for s in args.sizes.split(",")]
    if not (CORPUS / "civitai").is_dir():
        raise SystemExit(f"the corpus is not at {CORPUS} (set CATALOG_CORPUS)")

    log(f"benchmark: sizes {sizes}, database {BENCH_DATABASE_URL}, work folder {WORK}")
    database_reset(sizes)
    django_setup()
    report: dict = {"machine": machine(), "sizes": sizes, "requests": args.requests, "smoke": args.smoke}
    if not args.no_ingest:
        report["ingest"] = ingest_figures(
            limit=300 if args.smoke else None, thumbnails=10 if args.smoke else 200
        )

    from benchmarks import catalog_data

    records = catalog_data.corpus_records(CORPUS)
    built = 0
    report["sizes_measured"] = {}
    paths: dict[int, dict[str, list[str]]] = {}
    for total in sizes:
        log(f"building the catalog up to {total} models")
        seconds = catalog_data.build(
            records, total, start=built, progress=lambda n: n % 10_000 == 0 and log(f"  {n} models")
        )
        loaded, built = total - built, total
        analyze_seconds = analyze()
        log(
            f"  loaded {loaded} models in {seconds:.1f}s ({loaded / seconds:.0f}/s); VACUUM ANALYZE and CHECKPOINT {analyze_seconds:.1f}s"
        )
        # The machine's speed just before and after this size's scenarios: on a shared host it changes within
        # minutes (seen here: the same statement's median 1.9 and 3.0 ms a few minutes apart), and the start
        # and end of the whole run do not tell which size it slowed.
        score_before = cpu_score()
        measured = serve_and_measure(total, requests=args.requests, duration=args.duration)
        measured["cpu_score"] = [score_before, cpu_score()]
        paths[total] = measured.pop("paths")
        if total == sizes[0] and len(sizes) > 1:
            first = (total, database_copy(total), paths[total])
        measured["loaded_models"] = loaded
        measured["load_seconds"] = round(seconds, 1)
        measured["load_models_per_second"] = round(loaded / seconds, 1)
        measured["analyze_seconds"] = round(analyze_seconds, 1)
        report["sizes_measured"][str(total)] = measured
        log(f"connection: N={total} asked by PostgreSQL's Unix socket and over TCP in turn")
        connection = connection_figures(total, paths[total], requests=args.requests, duration=args.duration)
        if connection:
            report.setdefault("connection", {})[str(total)] = connection
        if not args.no_peer:  # at every size: the catalog is to be as fast as Datasette at every N
            peer = peer_figures(total, requests=args.requests, duration=args.duration)
            if peer is not None:
                report.setdefault("peer", {})[str(total)] = peer
    if len(sizes) > 1:
        log(f"growth: N={sizes[0]} and N={sizes[-1]} asked in turn")
        report["growth"] = growth_figures(
            first, (sizes[-1], paths[sizes[-1]]), requests=args.requests, duration=args.duration
        )
        database_drop(first[1])
    if not args.no_load_test:
        report["load_test"] = load_test(
            sizes[-1],
            clients=args.load_clients,
            seconds=args.load_seconds,
            crawl_models=200 if args.smoke else 2000,
        )

    # Again at the end: the machine's speed drifts during a run (other work on the same host), and the two
    # scores bound it.
    report["machine"]["cpu_score_end"] = cpu_score()
    from benchmarks.report import write_report

    paths = write_report(report, RESULTS, readme=None if args.smoke else ROOT / "README.md")
    for path in paths:
        log(f"wrote {path}")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
