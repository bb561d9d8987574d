"""Ingest through a real Celery worker process on Redis and PostgreSQL; a worker killed mid-run loses nothing."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from catalog.models import IngestRun, Model, ModelVersion
from ingest import tasks
from tests.conftest import CORPUS, celery_broker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def broker():
    """This process's Celery app sends to Redis, on a queue of this test's own."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL}")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with celery_broker(REDIS_URL, queue):
        yield queue


class Worker:
    """A real `celery worker` process on the test database."""

    def __init__(self, queue: str, log: Path) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # A task whose worker died is handed out again after this many seconds.
            "CELERY_VISIBILITY_TIMEOUT": "4",
            # Small batches, so that a run of 500 models is written in ten steps and a kill lands mid-run.
            "INGEST_BATCH_SIZE": "50",
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1", "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_finished(run_id: int) -> bool:
    return IngestRun.objects.get(pk=run_id).finished_at is not None


def test_async_ingest_runs_in_a_worker(broker, tmp_path) -> None:
    worker = Worker(broker, tmp_path / "worker.log")
    try:
        run = tasks.ingest_run_queue(kind="ingest", sources=[str(CORPUS / "mirror-pages")], local_files=True)
        assert IngestRun.objects.get(pk=run.pk).status == "queued"  # not run here: queued for the worker
        wait_for(lambda: run_finished(run.pk), 120, "the worker to finish the run")
    finally:
        worker.stop()
    assert "ingest.tasks.ingest_run_task[" in (tmp_path / "worker.log").read_text()
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    assert run.created_count == 25  # 25 JSON twins; their 25 pages merge into them
    assert run.unchanged_count + run.updated_count == 25
    assert Model.objects.count() == 25
    assert run.attempts == 1


def test_worker_killed_mid_run_loses_nothing(broker, tmp_path) -> None:
    source = CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz"
    with gzip.open(source) as lines:
        first_500 = b"".join(itertools.islice(lines, 500))
    models_file = tmp_path / "models-500.jsonl"
    models_file.write_bytes(first_500)

    worker = Worker(broker, tmp_path / "worker.log")
    try:
        run = tasks.ingest_run_queue(kind="crawl", sources=[str(models_file)], local_files=True)
        wait_for(lambda: IngestRun.objects.get(pk=run.pk).created_count >= 60, 120, "60 models written")
        worker.kill()
        killed_at = IngestRun.objects.get(pk=run.pk)
        assert killed_at.status == "running" and killed_at.created_count < 500
    finally:
        worker.stop()
    worker = Worker(broker, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: run_finished(run.pk), 240, "the restarted worker to finish the run")
    finally:
        worker.stop()
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    assert run.attempts == 2
    assert "the previous attempt stopped before it finished (worker lost)" in run.notes
    assert Model.objects.count() == 500
    assert Model.objects.values("civitai_id").distinct().count() == 500
    expected_versions = sum(len(json.loads(line)["modelVersions"]) for line in first_500.splitlines())
    assert ModelVersion.objects.count() == expected_versions
    assert ModelVersion.objects.values("civitai_id").distinct().count() == expected_versions
    assert settings.CELERY_TASK_ACKS_LATE is True


def _pg_cluster() -> list[str] | None:
    """The pg_ctlcluster command for this machine's PostgreSQL, when the tests run beside it."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def _query_when_back(read):
    """Read from the database, reconnecting while it restarts."""
    from django.db import InterfaceError, OperationalError

    try:
        return read()
    except (OperationalError, InterfaceError):
        connection.close()
        return None


@pytest.mark.skipif(_pg_cluster() is None, reason="needs this machine's PostgreSQL cluster (pg_ctlcluster)")
def test_postgresql_restarted_mid_ingest_the_task_is_retried_and_nothing_is_half_written(
    broker, tmp_path
) -> None:
    source = CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz"
    with gzip.open(source) as lines:
        first = b"".join(itertools.islice(lines, 1500))
    models_file = tmp_path / "models-1500.jsonl"
    models_file.write_bytes(first)
    worker = Worker(broker, tmp_path / "worker.log")
    try:
        run = tasks.ingest_run_queue(kind="crawl", sources=[str(models_file)], local_files=True)
        wait_for(lambda: IngestRun.objects.get(pk=run.pk).created_count >= 100, 120, "100 models written")
        restarted = subprocess.run([*_pg_cluster(), "restart"], capture_output=True, text=True, timeout=60)
        assert restarted.returncode == 0, restarted.stderr
        connection.close()  # this process's connection went with the restart too
        wait_for(
            lambda: _query_when_back(lambda: run_finished(run.pk)), 240, "the retried task to finish the run"
        )
    finally:
        subprocess.run([*_pg_cluster(), "start"], capture_output=True, timeout=60)  # up, whatever happened
        worker.stop()
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    assert run.attempts >= 2
    assert "the database was unreachable" in run.notes
    assert run.failed_count == 0
    assert Model.objects.count() == 1500
    assert Model.objects.values("civitai_id").distinct().count() == 1500
    expected_versions = sum(len(json.loads(line)["modelVersions"]) for line in first.splitlines())
    assert ModelVersion.objects.count() == expected_versions  # every model whole: none half-written
    log = (tmp_path / "worker.log").read_text()
    assert "Retry in" in log
