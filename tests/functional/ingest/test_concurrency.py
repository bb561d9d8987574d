"""Concurrent writers of the same models: no duplicates, no unique-constraint error."""

from __future__ import annotations

import gzip
import itertools
import json
import threading

import pytest
from django.db import connection

from catalog.models import Image, Model, ModelFile, ModelVersion, Tag
from ingest.parsers.civitai import civitai_parse_model
from ingest.parsers.mirror import mirror_parse_page
from ingest.writer import model_upsert
from tests.conftest import CORPUS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_four_writers_of_overlapping_models_leave_each_model_once() -> None:
    with gzip.open(CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz") as lines:
        data = [json.loads(line) for line in itertools.islice(lines, 40)]
    records = [civitai_parse_model(d, source=f"m{i}") for i, d in enumerate(data)]
    # Writers 0-3 each take an overlapping window, in a different order.
    batches = [records[0:30], records[10:40][::-1], records[5:35], records[::-1]]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(batches))

    def write(batch):
        try:
            barrier.wait()
            for record in batch:
                model_upsert(record)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert Model.objects.count() == 40
    assert ModelVersion.objects.count() == sum(len(r.versions) for r in records)
    assert ModelFile.objects.count() == sum(len(v.files) for r in records for v in r.versions)
    assert Image.objects.count() == sum(len(v.images) for r in records for v in r.versions)
    names = [t.lower() for t in Tag.objects.values_list("name", flat=True)]
    assert len(names) == len(set(names))


def test_a_page_and_its_twin_written_at_once_become_one_model() -> None:
    stem = CORPUS / "mirror-pages" / "Checkpoint.rank-00017.dl-110210.rating-4.95.CyberRealistic"
    page = mirror_parse_page(stem.with_name(stem.name + ".md").read_bytes(), source="page")
    twin = civitai_parse_model(json.loads(stem.with_name(stem.name + ".json").read_text()), source="twin")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(record):
        try:
            barrier.wait()
            model_upsert(record)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(r,)) for r in (page, twin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert Model.objects.count() == 1
    assert set(Model.objects.get().sources.values_list("provider", flat=True)) == {"civitai", "mirror"}


def test_four_batched_ingest_runs_of_overlapping_models_leave_each_model_once(tmp_path, settings) -> None:
    """The batched writer under contention: four runs at once over overlapping windows of 200 real models, in
    different orders, in batches of 25. No duplicate, and no unique-constraint error reaches a run."""
    from ingest.pipeline import ingest_run_execute
    from ingest.runs import ingest_run_create

    settings.INGEST_BATCH_SIZE = 25
    with gzip.open(CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz") as lines:
        data = list(itertools.islice(lines, 200))
    windows = [data[0:150], data[50:200][::-1], data[25:175], data[::-1]]
    paths = []
    for i, window in enumerate(windows):
        path = tmp_path / f"window-{i}.jsonl"
        path.write_bytes(b"".join(window))
        paths.append(path)
    runs, errors = [], []
    barrier = threading.Barrier(len(paths))

    def ingest(path):
        try:
            run = ingest_run_create(kind="cli", sources=[str(path)], local_files=True)
            barrier.wait()
            runs.append(ingest_run_execute(run))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert sorted((r.failed_count, r.status) for r in runs) == [(0, "succeeded")] * 4, [
        r.errors for r in runs
    ]
    assert sorted(r.created_count + r.updated_count + r.unchanged_count for r in runs) == [150, 150, 150, 200]
    assert sum(r.created_count for r in runs) == 200
    assert Model.objects.count() == 200
    assert Model.objects.values("civitai_id").distinct().count() == 200
    records = [civitai_parse_model(json.loads(line), source="x") for line in data]
    assert ModelVersion.objects.count() == sum(len(r.versions) for r in records)
    assert ModelFile.objects.count() == sum(len(v.files) for r in records for v in r.versions)
