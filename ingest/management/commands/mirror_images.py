"""`manage.py mirror_images`: mirror sample images that are not mirrored yet, in this process."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from catalog.models import Image, MirrorStatus
from ingest.errors import TransientFetchError
from ingest.fetchers import Fetcher
from ingest.images import image_mirror


class Command(BaseCommand):
    help = (
        "Download and store sample images not mirrored yet (pending ones; --failed retries refused ones too)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--failed", action="store_true", help="Retry images whose mirroring failed.")

    def handle(self, *args, limit: int | None, failed: bool, **options) -> None:
        statuses = [MirrorStatus.PENDING, MirrorStatus.FAILED] if failed else [MirrorStatus.PENDING]
        ids = list(
            Image.objects.filter(mirror_status__in=statuses).order_by("pk").values_list("pk", flat=True)
        )
        if failed:
            Image.objects.filter(pk__in=ids, mirror_status=MirrorStatus.FAILED).update(
                mirror_status="pending"
            )
        ids = ids[:limit] if limit else ids
        done = broken = later = 0
        with Fetcher(max_bytes=settings.IMAGE_MAX_BYTES) as fetcher:
            for image_id in tqdm(ids, unit=" images", disable=options["verbosity"] == 0, file=self.stderr):
                try:
                    result = image_mirror(image_id, fetcher=fetcher)
                except TransientFetchError as exc:
                    later += 1
                    self.stderr.write(f"image {image_id}: {exc} (will be retried)")
                    continue
                if result is None:
                    broken += 1
                else:
                    done += 1
        self.stdout.write(f"Mirrored {done} image(s); {broken} refused or gone; {later} to retry later.")
