"""The API's error answers: DRF's, and under /api/v1/ in Civitai's shape ({"error": "..."}, FORMATS.md §1.7)."""

from __future__ import annotations

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's exception handler (REST_FRAMEWORK's EXCEPTION_HANDLER); an /api/v1/ answer says its message under
    "error", as Civitai's API does, whatever raised it (a throttle, a missing sign-in, a parse error)."""
    response = drf_exception_handler(exc, context)
    request = context.get("request")
    if response is not None and request is not None and request.path.startswith("/api/v1/"):
        data = response.data
        if isinstance(data, dict) and set(data) == {"detail"}:
            response.data = {"error": str(data["detail"])}
        elif not (isinstance(data, dict) and "error" in data):
            response.data = {"error": str(data)}
    return response
