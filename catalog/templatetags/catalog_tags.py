"""Template filters of the catalog's pages."""

from django import template
from django.utils.safestring import mark_safe

from ingest.sanitize import sanitize_html

register = template.Library()


@register.filter
def sanitized(html: str) -> str:
    """HTML from a source or an admin, sanitized again on the way out (nh3 keeps only safe markup)."""
    return mark_safe(sanitize_html(html or ""))
