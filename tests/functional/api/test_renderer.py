"""The API's JSON is written by orjson (catalog/api/renderers.py): it must be what DRF's own JSONRenderer writes,
byte for byte, for real answers and for the values DRF treats specially."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.functional import lazy
from rest_framework import renderers as drf
from rest_framework.test import APIClient

from catalog.api.renderers import JSONRenderer
from ingest.parsers.documents import parse_document
from ingest.writer import record_write
from tests.conftest import CORPUS

KOLKATA = dt.timezone(dt.timedelta(hours=5, minutes=30))


def both(data, accepted: str | None = None) -> tuple[bytes, bytes]:
    return JSONRenderer().render(data, accepted), drf.JSONRenderer().render(data, accepted)


@pytest.mark.parametrize(
    "value",
    [
        {"a": "line\u2028separator and paragraph\u2029separator", "b": "\u2028"},
        {"ünïcode": "日本語のプロンプト, émoji 🎨", "quote": '"\\/\n\t\x01'},
        [dt.datetime(2024, 2, 29, 23, 59, 59, 5, tzinfo=dt.UTC), dt.datetime(2023, 1, 1, tzinfo=dt.UTC)],
        [dt.datetime(2024, 5, 1, 12, 0, tzinfo=KOLKATA), dt.datetime(2024, 5, 1, 12, 0, 0, 123456)],
        [dt.date(2024, 2, 29), dt.time(23, 59, 1, 500), dt.timedelta(days=1, seconds=3)],
        [Decimal("1.10"), uuid.UUID("12345678-1234-5678-1234-567812345678"), lazy(lambda: "later", str)()],
        {"seed": 2**70, "negative": -(2**65), "fits": 2**63 - 1},
        {1: "int key", "2": "text key"},
        {"floats": [0.1, 2.5, 1234.5678, 1 / 3, 0.0, -0.0, 1e16, 1.5e300, -2.5e-300], "ints": [0, -1, 2**53]},
        {"nested": [{"meta": {"steps": 20, "cfgScale": 7.0, "prompt": None}}, [], {}], "flag": True},
        "a bare string",
    ],
    ids=["line-separators", "unicode", "utc-dates", "offset-and-naive-dates", "date-time-timedelta",
         "decimal-uuid-lazy", "big-integers", "non-text-keys", "floats", "nested", "bare-string"],
)  # fmt: skip
def test_it_writes_what_drf_writes(value) -> None:
    ours, theirs = both(value)
    assert ours == theirs


def test_small_floats_keep_their_value_not_their_spelling() -> None:
    values = [1e-05, 2.5e-05, 1e-07, 0.000123]
    ours, theirs = both(values)
    assert ours == b"[0.00001,0.000025,1e-7,0.000123]" and theirs == b"[1e-05,2.5e-05,1e-07,0.000123]"
    assert json.loads(ours) == json.loads(theirs) == values


def test_indented_answers_are_drfs() -> None:
    data = {"items": [{"id": 1, "name": "x"}]}
    ours, theirs = both(data, "application/json; indent=4")
    assert ours == theirs
    assert ours.startswith(b'{\n    "items"')


def test_what_neither_can_write_fails_as_in_drf() -> None:
    with pytest.raises(TypeError):
        drf.JSONRenderer().render({"x": object()})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})


def test_a_non_finite_float_is_null_where_drf_fails_the_request() -> None:
    with pytest.raises(ValueError):
        drf.JSONRenderer().render({"x": float("nan")})
    assert JSONRenderer().render({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'


@pytest.mark.django_db
def test_real_answers_are_drfs_byte_for_byte() -> None:
    paths = [
        *sorted((CORPUS / "mirror-pages").glob("*.json"))[:20],
        *sorted((CORPUS / "civitai" / "api").glob("*.json")),
    ]
    for path in paths:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            if not isinstance(record, Exception):
                record_write(record)
    api = APIClient()
    urls = ["/api/v1/models?limit=100", "/api/models/?limit=100", "/api/models/?query=style&limit=20"]
    first = api.get("/api/models/?limit=1").json()["results"][0]["id"]
    urls += [f"/api/models/{first}/", "/api/v1/tags", "/api/v1/models?query=zzzz-nothing"]
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/json"
        assert response.content == drf.JSONRenderer().render(response.data), url
    civitai = api.get("/api/v1/models?limit=100").json()
    assert len(civitai["items"]) >= 10
    assert any(i["meta"] for m in civitai["items"] for v in m["modelVersions"] for i in v["images"])
    pretty = api.get("/api/models/?limit=2", HTTP_ACCEPT="application/json; indent=2")
    assert (
        pretty.content.startswith(b'{\n  "')
        and json.loads(pretty.content) == api.get("/api/models/?limit=2").json()
    )
