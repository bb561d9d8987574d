"""`manage.py export PATH`: the whole catalog as JSON Lines (gzipped when PATH ends in .gz; - for stdout)."""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingest.exports import catalog_export


class Command(BaseCommand):
    help = (
        "Write every model (hidden ones too) with its versions, files, images and their generation metadata, "
        "tags, sources and curation fields as JSON Lines in Civitai's shape plus the catalog's own fields. "
        "`manage.py ingest PATH` reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="PATH", help="file to write (.gz to compress), or - for stdout")

    def handle(self, *args, path: str, **options) -> None:
        started = time.monotonic()
        if path == "-":
            count = catalog_export(sys.stdout)
            return
        target = Path(path)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder")
        partial = target.with_name(target.name + ".partial")
        opener = gzip.open if target.suffix == ".gz" else open
        with opener(partial, "wt", encoding="utf-8") as out:
            count = catalog_export(out)
        partial.replace(target)  # a finished file or none: never half an export under the real name
        self.stdout.write(f"Exported {count} models to {target} in {time.monotonic() - started:.1f}s.")
