"""Ingest runs: the row every ingest, crawl or sync leaves, with its counts, failures and warnings."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import (
    IngestRun,
    IngestRunStatus,
    SourceRecord,
)

logger = logging.getLogger(__name__)

# What an item of a run came to (the writer's outcomes), each counted on the run.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def ingest_run_create(
    *,
    kind: str,
    sources: list[str],
    requested_by: Any = None,
    model_type: str = "",
    local_files: bool = False,
) -> IngestRun:
    """A new run, queued. `local_files`: its sources may name paths on the server (manage.py ingest only)."""
    return IngestRun.objects.create(
        kind=kind,
        sources=[str(s)[:2048] for s in sources],
        requested_by=requested_by,
        model_type=model_type[:64],
        local_files=local_files,
    )


def ingest_run_start(run: IngestRun, *, interrupted_by: str = "") -> None:
    """Mark a run as running. A run found running already was cut off (its worker died, or the database went
    away): say so, and start it again; the writer is idempotent, so what the first attempt wrote counts as
    unchanged this time."""
    run.refresh_from_db()
    now = timezone.now()
    if run.status == IngestRunStatus.RUNNING:
        run.notes += (
            f"{now:%Y-%m-%d %H:%M:%S} attempt {run.attempts + 1}: the previous attempt stopped before it "
            f"finished ({interrupted_by or 'worker lost'}); started again. Counts before the restart: "
            f"{run.created_count} created, "
            f"{run.updated_count} updated, {run.unchanged_count} unchanged, {run.failed_count} failed.\n"
        )
    run.status = IngestRunStatus.RUNNING
    run.attempts += 1
    run.started_at = run.started_at or now
    run.save(update_fields=["status", "started_at", "attempts", "notes"])


def ingest_run_count(run_id: int, outcome: str, n: int = 1) -> None:
    """Add created / updated / unchanged items to a run, atomically (several workers may share a run)."""
    field = {CREATED: "created_count", UPDATED: "updated_count", UNCHANGED: "unchanged_count"}[outcome]
    IngestRun.objects.filter(pk=run_id).update(**{field: F(field) + n})


def ingest_run_fail_item(run_id: int, source: str, message: str) -> None:
    """Record one failed input with a readable message, keeping the first 1,000 failures in full."""
    ingest_run_fail_items(run_id, [(source, message)])


def ingest_run_fail_items(run_id: int, failures: list[tuple[str, str]]) -> None:
    """Record failed inputs, each with a readable message, keeping the first 1,000 failures in full."""
    if not failures:
        return
    with transaction.atomic():
        run = IngestRun.objects.select_for_update().get(pk=run_id)
        run.failed_count += len(failures)
        for source, message in failures[: max(0, 1000 - len(run.errors))]:
            run.errors.append({"input": str(source)[:2048], "message": _redact(str(message))[:2000]})
        run.save(update_fields=["failed_count", "errors"])


def ingest_run_warn_items(run_id: int, warnings: list[tuple[str, str]]) -> None:
    """Record what was dropped from models that were kept (an unusable image URL), each naming its input and
    field, keeping the first 1,000."""
    if not warnings:
        return
    with transaction.atomic():
        run = IngestRun.objects.select_for_update().get(pk=run_id)
        for source, message in warnings[: max(0, 1000 - len(run.warnings))]:
            run.warnings.append({"input": str(source)[:2048], "message": _redact(str(message))[:2000]})
        run.save(update_fields=["warnings"])


def digests_known(digests: list[str]) -> set[str]:
    """Of these item digests, the ones a source record keeps: those items are unchanged since last time."""
    if not digests:
        return set()
    return set(
        SourceRecord.objects.filter(payload_hash__any_of=set(digests)).values_list("payload_hash", flat=True)
    )


def ingest_run_finish(run: IngestRun) -> IngestRun:
    """Close a run: succeeded, partly failed or failed, from its counts. A run that wrote models merges the
    search indexes' pending entries first (search_indexes_merge)."""
    run.refresh_from_db()
    if run.created_count or run.updated_count:
        search_indexes_merge()
    done = run.created_count + run.updated_count + run.unchanged_count
    if run.failed_count == 0:
        run.status = IngestRunStatus.SUCCEEDED
    else:
        run.status = IngestRunStatus.PARTIAL if done else IngestRunStatus.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


SEARCH_GIN_INDEXES = ("model_search_vector_idx", "model_name_trgm_idx", "model_name_bigram_idx")


def search_indexes_merge() -> None:
    """Merge the new entries waiting in the search's GIN indexes into them (PostgreSQL's gin_clean_pending_list),
    so that a search after an ingest reads the index alone: every search reads all of a pending list (catalog's
    PostgreSQL-only migration). A few milliseconds after a run. Skipped on SQLite; a database role that does not own
    the indexes may not merge them, and is left to autovacuum (logged)."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for name in SEARCH_GIN_INDEXES:
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
    except DatabaseError as exc:
        logger.warning("could not merge the search indexes' pending entries (autovacuum will): %s", exc)


def _redact(message: str) -> str:
    """Secrets never reach a run's errors."""
    for secret in (settings.CIVITAI_API_KEY, settings.HF_TOKEN):
        if secret:
            message = message.replace(secret, "[redacted]")
    return message
