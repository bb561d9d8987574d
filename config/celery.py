"""The Celery app. Settings come from Django's settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

from config.runtime import freeze_loaded_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("catalog")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
@worker_process_init.connect
def _freeze_loaded_objects(**kwargs) -> None:
    """The worker (a solo pool runs tasks in it) and each process of a prefork pool, once loaded."""
    freeze_loaded_objects()
