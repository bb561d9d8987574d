"""Faults the catalog survives, with real processes: a Redis server stopped and started again, and a flaky
source that fails a third of its requests."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import time

import pytest
import redis
from werkzeug import Response

from catalog.models import IngestRun, Model, ModelVersion
from ingest import runs
from ingest.pipeline import crawl_source, ingest_run_execute
from tests.conftest import CORPUS, celery_broker, load_json, redis_cache_settings
from tests.factories import ModelFactory, ModelFileFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own on a free port, so that stopping it disturbs nothing else."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed here")
def test_redis_stopped_pages_and_reads_serve_ingest_answers_503_and_work_goes_on_when_it_is_back(
    client, token_api, settings
) -> None:
    model = ModelFactory(name="Served without Redis")
    version = ModelVersionFactory(model=model)
    ModelFileFactory(version=version)
    port = _free_port()
    server = RedisServer(port)
    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{port}/0")
    pages = ["/", model.get_absolute_url(), "/stats/", "/api/models/", f"/api/models/{model.pk}/",
             "/api/v1/models", f"/api/v1/models/{model.civitai_id}", "/?query=served"]  # fmt: skip
    try:
        with celery_broker(f"redis://127.0.0.1:{port}/1"):
            assert [client.get(url).status_code for url in pages] == [200] * len(pages)
            assert redis.Redis(port=port).dbsize() > 0  # the cache was in use

            server.stop()
            assert [client.get(url).status_code for url in pages] == [200] * len(pages)
            assert "Served without Redis" in client.get("/").content.decode()
            down = token_api.post("/api/ingest", {"sources": ["1044"]}, format="json")
            assert down.status_code == 503
            assert "task queue is not reachable" in down.json()["detail"]

            server = RedisServer(port)
            back = token_api.post("/api/ingest", {"sources": ["1044"]}, format="json")
            assert back.status_code == 202, back.content
            queued = redis.Redis(port=port, db=1).lrange("celery", 0, -1)
            assert len(queued) == 1  # the run's task is on the queue for a worker
            assert IngestRun.objects.get(pk=back.json()["id"]).status == "queued"
            assert client.get("/").status_code == 200
    finally:
        server.stop()


def test_a_flaky_source_crawl_completes_through_retries_with_nothing_duplicated(standin, settings) -> None:
    """The stand-in answers 429 with Retry-After, 500, a reset connection or a slow answer to a third of the
    requests, at random; the crawl still gets every model, once."""
    settings.INGEST_RETRY_BASE_SECONDS = 0.01
    settings.INGEST_TIMEOUT_SECONDS = 0.5
    items = [load_json(p) for p in sorted((CORPUS / "mirror-pages").glob("*.json"))[:12]]
    rng = random.Random(7)
    faults = {"429": 0, "500": 0, "reset": 0, "slow": 0}
    served = {"pages": 0}

    def handler(request):
        roll = rng.random()
        if roll < 0.3:
            kind = rng.choice(list(faults))
            faults[kind] += 1
            if kind == "429":
                return Response("slow down", status=429, headers={"Retry-After": "0"})
            if kind == "500":
                return Response("boom", status=500)
            if kind == "reset":
                request.environ["werkzeug.socket"].shutdown(
                    socket.SHUT_RDWR
                )  # the client sees the connection drop
                return Response("", status=200)
            time.sleep(1.0)  # longer than the timeout: the fetcher gives up on it and retries
        start = int(request.args.get("cursor", "0"))
        page = items[start : start + 3]
        metadata = {"nextCursor": str(start + 3)} if start + 3 < len(items) else {}
        served["pages"] += 1
        return Response(json.dumps({"items": page, "metadata": metadata}), content_type="application/json")

    standin.expect_request("/api/v1/models").respond_with_handler(handler)
    run = runs.ingest_run_create(kind="crawl", sources=[crawl_source("civitai", {"limit": "3"}, None)])
    run = ingest_run_execute(run)

    assert run.status == "succeeded", run.errors
    assert sum(faults.values()) >= 2, faults  # the stand-in really was flaky
    assert run.created_count == len(items)
    assert Model.objects.count() == len(items)
    assert Model.objects.values("civitai_id").distinct().count() == len(items)
    versions = sum(len(i["modelVersions"]) for i in items)
    assert ModelVersion.objects.count() == versions


def test_secrets_never_reach_logs_run_errors_or_api_answers(standin, settings, token_api, caplog) -> None:
    """The Civitai key and the HuggingFace token are sent to their own hosts, and appear nowhere else: not in
    the log (at DEBUG, httpx's included), not in a failed run's errors or notes, not in the API's answer."""
    import logging

    settings.CIVITAI_API_KEY = "civitai-key-7f3a9c"
    settings.HF_TOKEN = "hf_tokenQ8zZ2"
    settings.INGEST_RETRY_BASE_SECONDS = 0.01
    seen = []

    def failing(request):
        seen.append(request.headers.get("Authorization"))
        # A hostile or broken upstream echoing the request back, key included.
        return Response(f"upstream broke; you sent {request.headers.get('Authorization')}", status=400)

    standin.expect_request("/api/v1/models/52645").respond_with_handler(failing)
    standin.expect_request("/api/models/owner/repo").respond_with_handler(failing)
    caplog.set_level(logging.DEBUG)

    base = settings.CIVITAI_BASE_URL
    done = [ingest_run_execute(runs.ingest_run_create(kind="ingest", sources=[f"{base}/models/52645"]))]
    settings.CIVITAI_BASE_URL = (
        "https://civitai.com"  # the stand-in is one host: now it plays HuggingFace only
    )
    done.append(ingest_run_execute(runs.ingest_run_create(kind="ingest", sources=[f"{base}/owner/repo"])))
    answers = [token_api.get(f"/api/ingest-runs/{run.pk}/") for run in done]

    assert seen == ["Bearer civitai-key-7f3a9c", "Bearer hf_tokenQ8zZ2"]  # each went to its own host
    assert [run.failed_count for run in done] == [1, 1]
    assert [a.status_code for a in answers] == [200, 200]
    assert "HTTP 400" in done[0].errors[0]["message"]
    for secret in ("civitai-key-7f3a9c", "hf_tokenQ8zZ2"):
        assert secret not in caplog.text
        for run, answer in zip(done, answers, strict=True):
            assert secret not in json.dumps(run.errors) + run.notes
            assert secret not in answer.content.decode()
