from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Fetching and parsing sources (Civitai, HuggingFace, mirror pages) and the Celery tasks that ingest them."""

    name = "ingest"
