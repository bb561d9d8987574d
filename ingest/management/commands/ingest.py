"""`manage.py ingest SOURCE...`: files, folders, Civitai and HuggingFace URLs or ids into the catalog."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.models import IngestRun
from config.runtime import freeze_loaded_objects
from ingest import runs, tasks
from ingest.pipeline import ingest_run_execute


class Command(BaseCommand):
    help = (
        "Ingest models from files or folders (Civitai API JSON, JSON Lines, .civitai.info, HuggingFace model "
        "info, Markdown mirror pages), Civitai model or version URLs and ids, or HuggingFace repo URLs and ids."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="+", metavar="SOURCE")
        parser.add_argument(
            "--type", dest="model_type", help="Model type for mirror pages that do not name one."
        )
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="Queue a Celery task instead."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(
        self,
        *args,
        sources: list[str],
        model_type: str | None,
        run_async: bool,
        kind: str = "ingest",
        **options,
    ) -> None:
        if run_async:
            run = tasks.ingest_run_queue(
                kind=kind, sources=sources, model_type=model_type or "", local_files=True
            )
            self.stdout.write(f"Queued {kind} run #{run.pk} for {len(sources)} source(s).")
            return
        # Run by someone at the server: its files and folders may be read (the API and the admin never do).
        run = runs.ingest_run_create(
            kind=kind, sources=sources, model_type=model_type or "", local_files=True
        )
        freeze_loaded_objects()
        bar = tqdm(
            unit=" models", disable=options["no_progress"] or options["verbosity"] == 0, file=self.stderr
        )
        started = time.monotonic()

        def progress(label: str, outcome: str) -> None:
            bar.update(1)
            bar.set_postfix_str(outcome, refresh=False)

        run = ingest_run_execute(run, progress=progress)
        tasks.ingest_run_images_queue(run)  # mirrored by a worker, when IMAGE_MIRROR_ON_INGEST
        bar.close()
        elapsed = time.monotonic() - started
        self._summary(run, elapsed)
        if run.failed_count:
            raise CommandError(
                f"{run.failed_count} input(s) failed; see above or ingest run #{run.pk} in admin."
            )

    def _summary(self, run: IngestRun, elapsed: float) -> None:
        total = run.created_count + run.updated_count + run.unchanged_count
        rate = total / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            f"{run.kind.capitalize()} run #{run.pk}: {run.created_count} created, {run.updated_count} updated, "
            f"{run.unchanged_count} unchanged, {run.failed_count} failed "
            f"in {elapsed:.1f}s ({rate:.0f} models/s)."
        )
        for error in run.errors:
            self.stdout.write(self.style.ERROR(f"  failed: {error['input']}: {error['message']}"))
        if run.failed_count > len(run.errors):
            self.stdout.write(f"  ... and {run.failed_count - len(run.errors)} more failures.")
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning['input']}: {warning['message']}"))
