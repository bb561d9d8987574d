"""Finding files by hash: which of Civitai's hash columns a value can be, by its shape."""

from __future__ import annotations

import re

from django.db.models import Q

from catalog.models import HASH_FORMATS

HEX = re.compile(r"^[0-9A-Fa-f]{8,64}$")


def hash_fields(value: str) -> tuple[str, ...]:
    """The hash columns an upper-case value can be, by its shape (a 64-digit value: SHA256, AutoV3 or BLAKE3)."""
    return tuple(field for field, (_, pattern) in HASH_FORMATS.items() if re.match(pattern, value))


def files_with_hash(value: str) -> Q:
    """Files whose SHA256, AutoV1, AutoV2, AutoV3, CRC32 or BLAKE3 is this hash (stored upper-case)."""
    value = value.strip().upper()
    condition = Q(pk__in=[])
    for field in hash_fields(value):
        condition |= Q(**{field: value})
    return condition
