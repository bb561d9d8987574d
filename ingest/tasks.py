"""Celery tasks, and the functions that queue them. Tasks are thin: each looks a row up, returns quietly when the
work is done or the row is gone, and calls one service. acks_late and idempotent; only transient errors (network,
429, 5xx, the database going away) are retried."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import Image, IngestRun, IngestRunStatus, MirrorStatus, Model, SourceRecord
from ingest.errors import TransientFetchError
from ingest.images import image_mirror
from ingest.pipeline import ingest_run_execute
from ingest.runs import ingest_run_create

logger = logging.getLogger(__name__)

FINISHED = (IngestRunStatus.SUCCEEDED, IngestRunStatus.PARTIAL, IngestRunStatus.FAILED)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=10)
def ingest_run_task(self, run_id: int, interrupted_by: str = "") -> None:
    """Execute a queued ingest run. Running it again after a crash redoes it: the writer is idempotent. When the
    database goes away mid-run (a restart, a failover), the task is retried once it can connect again; what
    was committed batch by batch counts as unchanged the next time."""
    try:
        run = IngestRun.objects.filter(pk=run_id).first()
        if run is None or run.status in FINISHED:
            return
        run = ingest_run_execute(run, interrupted_by=interrupted_by)
    except (OperationalError, InterfaceError) as exc:
        connections.close_all()  # broken connections: the retry opens new ones
        raise self.retry(
            args=(run_id,),
            kwargs={"interrupted_by": f"the database was unreachable ({type(exc).__name__})"},
            countdown=min(2**self.request.retries, 30),
        ) from exc
    ingest_run_images_queue(run)


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
    image_mirror(image_id)


@shared_task(acks_late=True, ignore_result=True)
def sync_due_models_task() -> None:
    """Celery beat: queue a re-fetch of the models whose last fetch is older than SYNC_INTERVAL_HOURS."""
    models_sync_due_queue()


@shared_task(acks_late=True, ignore_result=True)
def images_retry_task() -> None:
    """Celery beat: queue again the images whose mirroring failed for a transient reason or never ran."""
    images_mirror_queue()


# --- Queueing ----------------------------------------------------------------------------------------------


def ingest_run_images_queue(run: IngestRun) -> int:
    """After a run that wrote models, queue mirroring of the images not mirrored yet (IMAGE_MIRROR_ON_INGEST)."""
    if not settings.IMAGE_MIRROR_ON_INGEST or not (run.created_count or run.updated_count):
        return 0
    return images_mirror_queue()


def ingest_run_queue(
    *,
    kind: str,
    sources: list[str],
    requested_by: Any = None,
    model_type: str = "",
    local_files: bool = False,
    after_response: bool = False,
) -> IngestRun:
    """Create a run and queue its task once the run row is committed. Without a task queue (tasks run in this
    process) `after_response` runs it on a thread of its own, so the page that asked for it answers first."""
    run = ingest_run_create(
        kind=kind, sources=sources, requested_by=requested_by, model_type=model_type, local_files=local_files
    )
    if after_response and settings.CELERY_TASK_ALWAYS_EAGER:
        thread = threading.Thread(target=_ingest_run_in_thread, args=(run.pk,), name=f"ingest-run-{run.pk}")
        transaction.on_commit(thread.start)
    else:
        transaction.on_commit(lambda: ingest_run_task.delay(run.pk))
    return run


def _ingest_run_in_thread(run_id: int) -> None:
    try:
        ingest_run_task.delay(run_id)  # eager: runs here, on this thread's own database connection
    except Exception:
        logger.exception("ingest run #%s failed", run_id)
    finally:
        connections.close_all()  # this thread's connections


def ingest_run_dispatch(run: IngestRun) -> None:
    """Send a run's task to the queue now. If the broker cannot be reached the run is marked failed, saying
    why, and the broker's error is raised for the caller to answer (503)."""
    try:
        ingest_run_task.delay(run.pk)
    except BrokerError as exc:
        IngestRun.objects.filter(pk=run.pk).update(
            status=IngestRunStatus.FAILED,
            finished_at=timezone.now(),
            notes=f"Could not be queued: the task queue was not reachable ({type(exc).__name__}).",
        )
        raise


def models_resync_queue(
    *, model_ids: list[int], requested_by: Any = None, kind: str = "resync", after_response: bool = False
) -> IngestRun | None:
    """Queue a re-fetch of models from Civitai or HuggingFace; None when none of them came from there."""
    sources = []
    for civitai_id, hf_repo_id in Model.objects.filter(pk__in=model_ids).values_list(
        "civitai_id", "hf_repo_id"
    ):
        if civitai_id:
            sources.append(f"{settings.CIVITAI_BASE_URL.rstrip('/')}/models/{civitai_id}")
        elif hf_repo_id:
            sources.append(f"{settings.HF_ENDPOINT.rstrip('/')}/{hf_repo_id}")
    if not sources:
        return None
    return ingest_run_queue(
        kind=kind, sources=sources, requested_by=requested_by, after_response=after_response
    )


def models_sync_due_queue(*, limit: int = 500) -> IngestRun | None:
    """Queue a sync of the models from Civitai or HuggingFace whose last fetch is the oldest and overdue."""
    cutoff = timezone.now() - timedelta(hours=settings.SYNC_INTERVAL_HOURS)
    due = (
        SourceRecord.objects.filter(provider__in=["civitai", "huggingface"])
        .values("model_id")
        .annotate(last=Max("fetched_at"))
        .filter(last__lt=cutoff)
        .order_by("last")
        .values_list("model_id", flat=True)[:limit]
    )
    return models_resync_queue(model_ids=list(due), kind="sync")


def images_mirror_queue(
    *, model_id: int | None = None, model_ids: list[int] | None = None, limit: int = 5000
) -> int:
    """Queue mirroring of images not mirrored yet (some models', or the catalog's), after commit."""
    images = Image.objects.filter(mirror_status=MirrorStatus.PENDING, mirror_attempts__lt=5)
    if model_id is not None:
        model_ids = [model_id]
    if model_ids is not None:
        images = images.filter(version__model_id__in=model_ids)
    ids = list(images.order_by("pk").values_list("pk", flat=True)[:limit])
    for image_id in ids:
        transaction.on_commit(lambda image_id=image_id: image_mirror_task.delay(image_id))
    return len(ids)
