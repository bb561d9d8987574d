"""Mirroring sample images: download with a size cap, open with Pillow under a pixel limit, keep the original,
write a WebP thumbnail, record width, height and a blurhash. A broken image is recorded, never fatal."""

from __future__ import annotations

import io
import logging
import warnings

import blurhash
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from catalog.models import Image, MirrorStatus
from catalog.services import catalog_changed
from ingest.errors import IngestError

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


class ImageRejected(IngestError):
    """An image body that is not a safe raster image (not an image, too large, a decompression bomb...)."""


def image_decode(raw: bytes, *, source: str) -> PILImage.Image:
    """Open and fully decode an image under the pixel limit; raise ImageRejected saying why it was refused."""
    if len(raw) > settings.IMAGE_MAX_BYTES:
        raise ImageRejected(source, f"{len(raw)} bytes is over the {settings.IMAGE_MAX_BYTES} bytes limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            image = PILImage.open(io.BytesIO(raw))
            if image.format not in ALLOWED_FORMATS:
                raise ImageRejected(
                    source, f"format {image.format or 'unknown'} is not an allowed image format"
                )
            width, height = image.size
            if width * height > settings.IMAGE_MAX_PIXELS:
                raise ImageRejected(
                    source, f"{width}x{height} pixels is over the {settings.IMAGE_MAX_PIXELS} pixels limit"
                )
            image.load()
    except ImageRejected:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageRejected(source, "refused as a decompression bomb") from None
    except UnidentifiedImageError:
        raise ImageRejected(source, "not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(source, f"broken image: {str(exc)[:200]}") from None
    return image


def image_store(image: Image, raw: bytes) -> Image:
    """Keep a checked image body as the image's original, with a WebP thumbnail and a blurhash."""
    decoded = image_decode(raw, source=image.url)
    extension = ALLOWED_FORMATS[decoded.format]
    rgb = decoded.convert("RGB")
    thumb = rgb.copy()
    size = settings.IMAGE_THUMBNAIL_SIZE
    thumb.thumbnail((size, size * 2))
    buffer = io.BytesIO()
    thumb.save(buffer, "WEBP", quality=82, method=4)
    small = rgb.copy()
    small.thumbnail((64, 64))
    hash_ = blurhash.encode(small, x_components=4, y_components=3)
    name = f"{image.civitai_id or image.pk}"
    with transaction.atomic():
        locked = Image.objects.select_for_update().get(pk=image.pk)
        if locked.original:
            locked.original.delete(save=False)
        if locked.thumbnail:
            locked.thumbnail.delete(save=False)
        locked.original.save(f"{name}.{extension}", ContentFile(raw), save=False)
        locked.thumbnail.save(f"{name}.webp", ContentFile(buffer.getvalue()), save=False)
        locked.width = locked.width or rgb.width
        locked.height = locked.height or rgb.height
        locked.blurhash = locked.blurhash or hash_
        locked.mirror_status = MirrorStatus.MIRRORED
        locked.mirror_error = ""
        locked.mirrored_at = timezone.now()
        locked.save()
        transaction.on_commit(catalog_changed)  # cards and pages now show the thumbnail
    return locked


def image_mirror_failed(image: Image, message: str) -> None:
    """Record why an image could not be mirrored; the model stays as it is, and pages link to the source."""
    Image.objects.filter(pk=image.pk).update(
        mirror_status=MirrorStatus.FAILED,
        mirror_error=message[:2000],
        mirror_attempts=image.mirror_attempts + 1,
    )


def image_mirror(image_id: int, *, fetcher=None) -> Image | None:
    """Download one image (allowed hosts only, size-capped, content-type checked) and store it.

    Returns the image, or None when it is gone or already mirrored. A refused or broken body is recorded on the
    image and not retried; a transient error propagates so the task can retry it.
    """
    from ingest.errors import FetchError, TransientFetchError
    from ingest.fetchers import Fetcher

    image = Image.objects.filter(pk=image_id).first()
    if image is None or image.mirror_status == MirrorStatus.MIRRORED:
        return None
    own = fetcher is None
    fetcher = fetcher or Fetcher(max_bytes=settings.IMAGE_MAX_BYTES)
    try:
        response = fetcher.get(image.url, accept="image/*")
        content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if not content_type.startswith("image/") or content_type == "image/svg+xml":
            raise ImageRejected(image.url, f"content type {content_type or '(none)'} is not a raster image")
        return image_store(image, response.body)
    except TransientFetchError:
        Image.objects.filter(pk=image.pk).update(mirror_attempts=image.mirror_attempts + 1)
        raise
    except (ImageRejected, FetchError) as exc:
        image_mirror_failed(image, exc.message)
        logger.info("image %s not mirrored: %s", image.pk, exc)
        return None
    finally:
        if own:
            fetcher.client.close()
