"""Mirroring sample images: good ones stored with a thumbnail and blurhash; hostile or broken ones refused and
recorded, the model intact."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from django.core.management import call_command
from PIL import Image as PILImage

from catalog.models import Image, MirrorStatus
from ingest.images import image_mirror
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_host(standin, settings):
    """The loopback stand-in, with small image limits."""
    settings.IMAGE_MAX_BYTES = 2_000_000
    settings.IMAGE_MAX_PIXELS = 4_000_000
    return standin


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge canvas: the header alone says how many pixels it would decode to."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


def image_at(host, path: str, body: bytes, content_type: str) -> Image:
    host.expect_request(path).respond_with_data(body, content_type=content_type)
    return ImageFactory(url=host.url_for(path), width=None, height=None)


def test_good_image_is_stored_with_thumbnail_and_blurhash(image_host) -> None:
    image = image_at(image_host, "/a/1.png", png(900, 1200), "image/png")
    image_mirror(image.pk)
    image.refresh_from_db()
    assert image.mirror_status == MirrorStatus.MIRRORED
    assert (image.width, image.height) == (900, 1200)
    with image.original.open("rb") as original:
        assert original.read() == png(900, 1200)
    with image.thumbnail.open("rb") as thumbnail, PILImage.open(thumbnail) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (450, 600)
    assert len(image.blurhash) >= 6


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (bomb_png(30_000, 30_000), "image/png", "decompression bomb|pixels limit"),
        (png(300, 300)[:200], "image/png", "broken image|not an image"),
        (b"just some text, not a jpeg", "image/jpeg", "not an image Pillow can read"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
            "not a raster image",
        ),
        (b"<html>hi</html>", "text/html", "not a raster image"),
        (b"x" * 2_500_000, "image/jpeg", "over the 2000000 bytes limit"),
    ],
    ids=["bomb", "truncated", "text-as-jpeg", "svg", "html", "too-big"],
)
def test_hostile_images_are_refused_and_recorded(image_host, body, content_type, message) -> None:
    image = image_at(image_host, "/bad.jpg", body, content_type)
    assert image_mirror(image.pk) is None
    image.refresh_from_db()
    assert image.mirror_status == MirrorStatus.FAILED
    assert re.search(message, image.mirror_error), image.mirror_error
    assert not image.original and not image.thumbnail
    assert image.version.model.versions.count() == 1  # the model is intact


def test_mirror_images_command(image_host, capsys) -> None:
    image_at(image_host, "/ok.png", png(64, 64), "image/png")
    image_at(image_host, "/broken.png", b"nope", "image/png")
    call_command("mirror_images", verbosity=0)
    assert "Mirrored 1 image(s); 1 refused or gone; 0 to retry later." in capsys.readouterr().out
    assert Image.objects.filter(mirror_status="mirrored").count() == 1
