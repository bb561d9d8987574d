"""JSON read fast: `loads` gives what the standard library's json.loads gives, values and errors alike, by orjson
wherever orjson reads the same value (two to three times faster on the payloads the catalog reads and stores).

orjson reads an integer beyond 64 bits as a float, and refuses what json.loads takes (NaN, Infinity, numbers
beyond a double, lone surrogates, a byte-order mark): a text with a run of 19 digits or more, and any text orjson
refuses, goes to the standard library, which reads it or raises its own error. The run is looked for with
bytes.translate and `in`, a few nanoseconds a byte; a regular expression took longer than json.loads itself.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Each digit "0", the rest " ".
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19


def loads(text: str | bytes) -> Any:
    """json.loads(text), by orjson where it reads the same value."""
    try:
        raw = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return json.loads(text)
    if _LONG_NUMBER not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
