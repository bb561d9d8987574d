"""Celery tasks: thin wrappers that look a run up and call a service. acks_late, idempotent."""

from __future__ import annotations

from celery import shared_task

from catalog.models import IngestRun, IngestRunStatus


@shared_task(acks_late=True, ignore_result=True)
def ingest_run_task(run_id: int) -> None:
    """Execute a queued ingest run. Running it again after a crash redoes it: the writer is idempotent."""
    from ingest.sources import ingest_run_execute

    run = IngestRun.objects.filter(pk=run_id).first()
    if run is None or run.status in (
        IngestRunStatus.SUCCEEDED,
        IngestRunStatus.PARTIAL,
        IngestRunStatus.FAILED,
    ):
        return
    ingest_run_execute(run)
