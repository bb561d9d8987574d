"""`manage.py crawl civitai|huggingface [filters] [--limit N]`: walk a provider's model list and ingest each."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from ingest.fetchers import CIVITAI_SORTS
from ingest.management.commands.ingest import Command as IngestCommand
from ingest.pipeline import crawl_source


class Command(IngestCommand):
    help = (
        "Crawl Civitai's /api/v1/models (cursor pages) or HuggingFace's model list (Link pages) and ingest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=["civitai", "huggingface"])
        parser.add_argument("--query", help="Civitai: search query.")
        parser.add_argument("--types", help="Civitai: model types, comma-separated (LORA,Checkpoint).")
        parser.add_argument("--base-models", help='Civitai: base models, comma-separated ("SDXL 1.0").')
        parser.add_argument("--sort", choices=CIVITAI_SORTS, help="Civitai: sort order.")
        parser.add_argument("--username", help="Civitai: one creator's models.")
        parser.add_argument("--tag", help="Civitai: one tag's models.")
        parser.add_argument("--search", help="HuggingFace: search text.")
        parser.add_argument("--filter", help="HuggingFace: a tag filter (diffusers, lora, ...).")
        parser.add_argument("--author", help="HuggingFace: one author's repos.")
        parser.add_argument("--limit", type=int, help="Stop after this many models.")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="Queue a Celery task instead."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, provider: str, limit: int | None, **options) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be 1 or more")
        params: dict[str, str | list[str]] = {}
        if provider == "civitai":
            for option, key in [
                ("query", "query"),
                ("sort", "sort"),
                ("username", "username"),
                ("tag", "tag"),
            ]:
                if options.get(option):
                    params[key] = options[option]
            for option, key in [("types", "types"), ("base_models", "baseModels")]:
                if options.get(option):
                    params[key] = [v.strip() for v in options[option].split(",") if v.strip()]
        else:
            for option in ("search", "filter", "author"):
                if options.get(option):
                    params[option] = options[option]
        source = crawl_source(provider, params, limit)
        super().handle(sources=[source], model_type=None, kind="crawl", **options)
