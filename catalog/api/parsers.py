"""The API's request body parser: JSON only, and only as large as an API call needs to be."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "body_too_large"


class BoundedJSONParser(JSONParser):
    """DRF reads a body from the request stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: this one refuses
    a body larger than API_MAX_BODY_BYTES before reading it, naming both sizes."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdecimal() and int(declared) > limit:
            raise BodyTooLarge(f"Request body too large: {int(declared)} bytes; at most {limit} bytes.")
        if stream is not None and hasattr(stream, "read"):
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise BodyTooLarge(f"Request body too large: over {limit} bytes.")
            stream = io.BytesIO(raw)  # a body sent without a length is capped as it is read
        return super().parse(stream, media_type, parser_context)
