"""The API's JSON renderer: DRF's answers, written by orjson.

A Civitai search of 20 models is ~230 KB of JSON, and the standard library's encoder took about a quarter of the
request's instructions to write it. orjson writes the same JSON as DRF's renderer with the default settings
(compact, UTF-8, U+2028 and U+2029 escaped) in a fraction of that. Dates and the types orjson does not know (lazy
strings, Decimals, timedeltas...) go through DRF's encoder, as they would there; whatever orjson would write
differently goes to DRF's own renderer: indented answers, the ASCII-only setting, integers beyond 64 bits and
dictionaries with keys that are not text. Numbers keep their value, though not always their spelling (1e-05 is
written 0.00001). One difference is kept: a NaN or infinite float is written as null, where DRF's strict JSON would
fail the request; the catalog never stores one (ingest and the admin refuse them).
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import renderers

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # dates as DRF writes them (isoformat, +00:00 as Z)


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if (
            self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in out:  # the lead bytes of U+2028 and U+2029: escaped, so the JSON is also JavaScript
            out = out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return out
