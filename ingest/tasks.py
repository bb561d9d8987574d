"""Celery tasks: thin wrappers that look a row up and call a service. acks_late, idempotent, retry only
transient errors (network, 429, 5xx)."""

from __future__ import annotations

from celery import shared_task

from catalog.models import IngestRun, IngestRunStatus
from ingest.errors import TransientFetchError

FINISHED = (IngestRunStatus.SUCCEEDED, IngestRunStatus.PARTIAL, IngestRunStatus.FAILED)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=10)
def ingest_run_task(self, run_id: int, interrupted_by: str = "") -> None:
    """Execute a queued ingest run. Running it again after a crash redoes it: the writer is idempotent. When the
    database goes away mid-run (a restart, a failover), the task is retried once it can connect again; what
    was committed batch by batch counts as unchanged the next time."""
    from django.db import InterfaceError, OperationalError, connections

    from ingest.sources import ingest_run_execute

    try:
        run = IngestRun.objects.filter(pk=run_id).first()
        if run is None or run.status in FINISHED:
            return
        ingest_run_execute(run, interrupted_by=interrupted_by)
    except (OperationalError, InterfaceError) as exc:
        connections.close_all()  # broken connections: the retry opens new ones
        raise self.retry(
            args=(run_id,),
            kwargs={"interrupted_by": f"the database was unreachable ({type(exc).__name__})"},
            countdown=min(2**self.request.retries, 30),
        ) from exc


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(TransientFetchError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def image_mirror_task(image_id: int) -> None:
    """Mirror one sample image into media storage (a no-op when it is mirrored already or gone)."""
    from ingest.images import image_mirror

    image_mirror(image_id)


@shared_task(acks_late=True, ignore_result=True)
def sync_due_models_task() -> None:
    """Celery beat: queue a re-fetch of the models whose last fetch is older than SYNC_INTERVAL_HOURS."""
    from ingest.services import models_sync_due_queue

    models_sync_due_queue()


@shared_task(acks_late=True, ignore_result=True)
def images_retry_task() -> None:
    """Celery beat: queue again the images whose mirroring failed for a transient reason or never ran."""
    from ingest.services import images_mirror_queue

    images_mirror_queue()
