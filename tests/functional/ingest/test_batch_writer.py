"""The batched writer: new models go in together, unchanged items are skipped before they are parsed, and the
catalog it leaves is the one the one-by-one writer leaves."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from catalog.models import Image, Model, ModelFile, ModelVersion
from ingest import pipeline, runs, writer
from ingest.parsers import documents
from ingest.pipeline import ingest_run_execute, parse_source
from ingest.records import FileRecord, ModelRecord, VersionRecord
from ingest.runs import CREATED, UPDATED, ingest_run_create
from ingest.writer import model_upsert, models_upsert
from tests.catalog_state import corpus_lines, snapshot, wipe

pytestmark = pytest.mark.django_db


def test_batched_and_one_by_one_writers_leave_the_same_catalog(corpus_sources: list[str]) -> None:
    run = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources, local_files=True))
    assert run.failed_count == 0, run.errors
    assert run.created_count >= 300
    batched = snapshot()

    wipe()
    for source in corpus_sources:
        for label, record in parse_source(source):
            assert isinstance(record, ModelRecord), (label, record)
            model_upsert(record)
    one_by_one = snapshot()

    assert len(batched) == len(one_by_one) > 300
    for a, b in zip(batched, one_by_one, strict=True):
        assert a == b, a["name"]


def test_reingest_skips_unchanged_items_without_parsing_them(corpus_sources, monkeypatch) -> None:
    first = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))
    assert (first.created_count, first.failed_count) == (300, 0)

    def parse_refused(*args, **kwargs):
        raise AssertionError("an unchanged item was parsed again")

    monkeypatch.setattr("ingest.parsers.documents.civitai_parse_model", parse_refused)
    again = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))
    assert (again.created_count, again.updated_count, again.unchanged_count, again.failed_count) == (
        0,
        0,
        300,
        0,
    )
    assert Model.objects.count() == 300


def test_a_changed_line_is_parsed_and_updated(corpus: Path, tmp_path: Path) -> None:
    lines = corpus_lines(corpus)[:20]
    path = tmp_path / "models.jsonl"
    path.write_bytes(b"\n".join(lines))
    ingest_run_execute(ingest_run_create(kind="cli", sources=[str(path)], local_files=True))
    changed = json.loads(lines[3])
    changed["name"] = "Renamed at the source"
    path.write_bytes(b"\n".join([*lines[:3], json.dumps(changed).encode(), *lines[4:]]))

    run = ingest_run_execute(ingest_run_create(kind="cli", sources=[str(path)], local_files=True))

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 19)
    assert Model.objects.get(civitai_id=changed["id"]).name == "Renamed at the source"


def test_the_same_model_twice_in_one_batch_is_one_model(corpus: Path, tmp_path: Path) -> None:
    line = corpus_lines(corpus)[0] + b"\n"
    renamed = json.loads(line)
    renamed["name"] = "The later spelling"
    path = tmp_path / "twice.jsonl"
    path.write_bytes(line + json.dumps(renamed).encode() + b"\n")

    run = ingest_run_execute(ingest_run_create(kind="cli", sources=[str(path)], local_files=True))

    assert (run.created_count, run.updated_count, run.failed_count) == (1, 1, 0)
    model = Model.objects.get()
    assert model.name == "The later spelling"
    assert ModelVersion.objects.filter(model=model).count() == len(renamed["modelVersions"])


def _record(n: int, *, rating: float = 4.5) -> ModelRecord:
    return ModelRecord(
        provider="civitai",
        source_key=str(900_000 + n),
        civitai_id=900_000 + n,
        name=f"Batch model {n}",
        type="LORA",
        versions=(
            VersionRecord(
                civitai_id=800_000 + n,
                name="v1",
                rating=rating,
                files=(FileRecord(name=f"model{n}.safetensors", civitai_id=700_000 + n),),
            ),
        ),
        versions_complete=True,
    )


def test_one_bad_model_in_a_batch_fails_alone_and_leaves_nothing_half_written() -> None:
    records = [_record(1), _record(2, rating=7.0), _record(3)]  # a version rating above 5 breaks a constraint

    results = models_upsert([(r, None) for r in records])

    assert [getattr(r, "outcome", None) for r in results] == [CREATED, None, CREATED]
    assert "version_rating_0_5" in str(results[1])
    assert sorted(Model.objects.values_list("name", flat=True)) == ["Batch model 1", "Batch model 3"]
    assert not ModelVersion.objects.filter(civitai_id=800_002).exists()
    assert not ModelFile.objects.filter(civitai_id=700_002).exists()
    assert Image.objects.count() == 0


def test_a_batch_meeting_models_the_catalog_has_updates_them(monkeypatch) -> None:
    model_upsert(_record(1))
    renamed = ModelRecord(**{**_record(1).__dict__, "name": "Renamed"})

    results = models_upsert([(renamed, None), (_record(2), None)])

    assert [r.outcome for r in results] == [UPDATED, CREATED]
    assert Model.objects.get(civitai_id=900_001).name == "Renamed"
    assert Model.objects.count() == 2


def test_run_counts_come_in_batches(corpus_sources, settings) -> None:
    settings.INGEST_BATCH_SIZE = 7
    run = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))
    assert (run.created_count, run.failed_count, run.status) == (300, 0, "succeeded")


def _helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ingest-parse")]


def test_batches_are_parsed_on_a_helper_thread_and_written_here_in_order(
    corpus_sources, settings, monkeypatch
) -> None:
    settings.INGEST_BATCH_SIZE = 40
    parsed_on: set[str] = set()
    written: list[tuple[str, list[int]]] = []
    parse = documents.civitai_parse_model
    write = writer.models_upsert

    def parse_noted(*args, **kwargs):
        parsed_on.add(threading.current_thread().name)
        return parse(*args, **kwargs)

    def write_noted(items):
        written.append((threading.current_thread().name, [record.civitai_id for record, _ in items]))
        return write(items)

    monkeypatch.setattr(documents, "civitai_parse_model", parse_noted)
    monkeypatch.setattr(writer, "models_upsert", write_noted)

    run = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))

    assert (run.created_count, run.failed_count, run.status) == (300, 0, "succeeded")
    assert len(parsed_on) == 1 and parsed_on.pop().startswith("ingest-parse")
    assert {thread for thread, _ in written} == {threading.current_thread().name}
    assert [len(ids) for _, ids in written] == [40] * 7 + [20]
    lines = [json.loads(line)["id"] for line in Path(corpus_sources[0]).read_text().splitlines() if line]
    assert [i for _, ids in written for i in ids] == lines
    by_id = dict(Model.objects.values_list("civitai_id", "id"))
    assert [by_id[i] for i in lines] == sorted(by_id.values())  # written in the order the source gave them
    assert _helper_threads() == []


def test_a_writer_error_stops_the_run_and_leaves_no_helper_thread(
    corpus_sources, settings, monkeypatch
) -> None:
    settings.INGEST_BATCH_SIZE = 40
    write = writer.models_upsert
    calls = []

    def second_write_fails(items):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return write(items)

    monkeypatch.setattr(writer, "models_upsert", second_write_fails)

    with pytest.raises(RuntimeError, match="the database went away"):
        ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))

    assert calls == [40, 40]
    assert Model.objects.count() == 40  # the first batch; nothing of the second
    assert _helper_threads() == []


def test_batches_read_before_a_source_breaks_are_written(corpus_sources, settings, monkeypatch) -> None:
    """A source that fails with something other than its own error (a bug, a disk gone) stops the run; the
    batches it gave whole before that are in the catalog, as they were before the helper thread parsed them."""
    settings.INGEST_BATCH_SIZE = 40
    items = list(pipeline.source_items(corpus_sources[0], local_files=True))[:100]

    def breaks_after_100(source, *, model_type=None, local_files=False):
        yield from items
        raise OSError("the disk went away")

    monkeypatch.setattr(pipeline, "source_items", breaks_after_100)

    with pytest.raises(OSError, match="the disk went away"):
        ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[:1], local_files=True))

    assert Model.objects.count() == 80  # two whole batches; the 20 items of the third were never a batch
    assert _helper_threads() == []


def _synchronous_commit_while_locking(monkeypatch) -> list[str]:
    """synchronous_commit as each chunk's transaction has it (read when the chunk takes its locks)."""
    seen: list[str] = []
    lock_many = writer._lock_many

    def spy(records):
        seen.append(connection.connection.execute("SHOW synchronous_commit").fetchone()[0])
        return lock_many(records)

    monkeypatch.setattr(writer, "_lock_many", spy)
    return seen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_new_models_commit_without_waiting_for_the_disk_only_in_their_own_transaction(monkeypatch) -> None:
    seen = _synchronous_commit_while_locking(monkeypatch)

    results = models_upsert([(_record(1), None), (_record(2), None)])

    assert [r.outcome for r in results] == [CREATED, CREATED]
    assert seen == ["off"]  # the chunk's own transaction
    with connection.cursor() as cursor:  # SET LOCAL: gone with the transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert Model.objects.count() == 2

    seen.clear()
    with transaction.atomic():  # a caller's transaction: its commit is the caller's, made as usual
        results = models_upsert([(_record(3), None)])
    assert [r.outcome for r in results] == [CREATED]
    assert seen == ["on"]
    assert Model.objects.count() == 3


def _pending_search_entries() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        found = {}
        for name in runs.SEARCH_GIN_INDEXES:
            cursor.execute("SELECT pending_tuples FROM pgstatginindex(%s::regclass)", [name])
            found[name] = cursor.fetchone()[0]
        return found


@pytest.mark.postgres
def test_an_ingest_run_leaves_no_search_entries_pending(corpus_sources: list[str]) -> None:
    """A search reads all of a GIN index's pending list: a run merges it when it finishes (catalog's PostgreSQL-only migration)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [list(runs.SEARCH_GIN_INDEXES)],
        )
        assert cursor.fetchall() == [
            ("model_name_bigram_idx", ["gin_pending_list_limit=256"]),
            ("model_name_trgm_idx", ["gin_pending_list_limit=256"]),
            ("model_search_vector_idx", ["gin_pending_list_limit=256"]),
        ]
    records = [record for _, record in parse_source(corpus_sources[0])][:50]
    models_upsert([(record, None) for record in records])  # the writer alone, outside a run
    written = _pending_search_entries()
    assert all(n > 0 for n in written.values()), written

    run = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[1:2], local_files=True))
    assert run.created_count > 0 and run.failed_count == 0
    assert _pending_search_entries() == dict.fromkeys(runs.SEARCH_GIN_INDEXES, 0)
    assert Model.objects.filter(search_vector__isnull=False).count() == 50 + run.created_count
