"""Template filters of the catalog's pages."""

from urllib.parse import urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.safestring import mark_safe

from catalog.sanitize import sanitize_html

register = template.Library()


@register.filter
def sanitized(html: str) -> str:
    """HTML from a source or an admin, sanitized again on the way out (nh3 keeps only safe markup)."""
    return mark_safe(sanitize_html(html or ""))


@register.filter
def media_url(name: str) -> str:
    """The URL of a file the catalog keeps (a FileField's value), as FieldFile.url gives it; "" for none."""
    return default_storage.url(name) if name else ""


@register.filter
def sample_alt(version_name: str, number: int) -> str:
    """A sample image's alternative text."""
    return f"Sample image {number} of {version_name}"


@register.filter
def remote_thumbnail(url: str) -> str | None:
    """The source's own small copy of an image not mirrored yet, or None: only on REMOTE_THUMBNAIL_HOSTS (the
    Content-Security-Policy allows exactly those), and only while REMOTE_THUMBNAILS is on. A Civitai image URL
    is /{account}/{uuid}/{options}/{name}: the options segment asks its edge for a size (FORMATS.md §1.6)."""
    if not settings.REMOTE_THUMBNAILS:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in settings.REMOTE_THUMBNAIL_HOSTS:
        return None
    segments = parts.path.split("/")
    if len(segments) == 5 and "=" in segments[3]:
        segments[3] = "width=450"
    elif len(segments) == 4:
        segments.insert(3, "width=450")
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), parts.query, ""))
