"""`manage.py load_sample`: on an empty catalog, ingest the sample catalog the repo ships and draw its images."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from PIL import Image as PILImage
from PIL import ImageDraw

from catalog.models import Image, Model
from ingest import runs
from ingest.images import image_store
from ingest.pipeline import ingest_run_execute

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_catalog"


def sample_picture(seed: str, width: int, height: int) -> bytes:
    """A generated landscape-like PNG (sky gradient, sun, hills), different for every seed: no network needed."""
    digest = hashlib.sha256(seed.encode()).digest()
    scale = 512 / max(width, height)
    w, h = max(int(width * scale), 64), max(int(height * scale), 64)
    top = (digest[0] // 2, digest[1] // 2, 90 + digest[2] // 2)
    bottom = (150 + digest[3] // 3, 90 + digest[4] // 3, 120 + digest[5] // 3)
    picture = PILImage.new("RGB", (w, h))
    draw = ImageDraw.Draw(picture)
    for y in range(h):
        t = y / h
        draw.line(
            [(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    sun_x, sun_y, r = w * (0.2 + digest[6] / 400), h * (0.25 + digest[7] / 1200), w * 0.08
    draw.ellipse([sun_x - r, sun_y - r, sun_x + r, sun_y + r], fill=(255, 236 - digest[8] // 6, 180))
    for layer in range(3):
        shade = 30 + layer * 25 + digest[9 + layer] // 8
        base = h * (0.55 + layer * 0.12)
        points = [(0, h)]
        for x in range(0, w + 16, 16):
            wave = math.sin(x / w * math.pi * (2 + layer) + digest[12 + layer]) * h * 0.06
            points.append((x, base + wave))
        points.append((w, h))
        draw.polygon(points, fill=(shade // 2, shade, shade + 20))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the sample catalog (a few models in each source format) when the catalog is empty."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even when the catalog has models.")

    def handle(self, *args, force: bool, **options) -> None:
        if Model.objects.exists() and not force:
            self.stdout.write("The catalog has models already; the sample catalog was not loaded.")
            return
        run = runs.ingest_run_create(kind="sample", sources=[str(SAMPLE_DIR)], local_files=True)
        run = ingest_run_execute(run)
        if run.failed_count:
            raise CommandError(f"the sample catalog did not load: {run.errors}")
        drawn = 0
        for image in Image.objects.filter(original=""):
            image_store(image, sample_picture(image.url, image.width or 768, image.height or 768))
            drawn += 1
        self.stdout.write(
            f"Loaded the sample catalog: {run.created_count} models created, {drawn} sample images drawn."
        )
