"""catalog.json_read.loads reads what json.loads reads: the same values, the same errors."""

import gzip
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import json_read
from tests.conftest import CORPUS, FUZZ_SCALE


def same(a, b) -> bool:
    """Equal values of equal types all the way down (1 and 1.0 differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize(
    "text",
    [
        '{"seed": 12345678901234567890123}',  # beyond 64 bits: orjson would give a float
        '{"seed": -9223372036854775809}',  # one below the smallest 64-bit integer
        '{"seed": 18446744073709551615}',  # 20 digits that orjson reads as an integer
        '{"seed": 1234567890123456789}',  # 19 digits
        '{"cfg": NaN, "steps": Infinity, "x": -Infinity}',
        "[1e400, -1e400]",  # beyond a double
        '"\\ud800"',  # a lone surrogate, escaped
        '{"a": 1, "a": 2}',  # a repeated key: the last one
        '{"w": 0.1, "h": 1.0000000000000002, "z": -0.0, "e": 1E5}',
        '{"prompt": "caf\\u00e9 \\u2028 \\"quoted\\" \\u0000"}',
        '\ufeff{"bom": true}',
    ],
)
@pytest.mark.parametrize("kind", ["str", "bytes"])
def test_same_value_as_the_standard_library(text: str, kind: str) -> None:
    given_text = text if kind == "str" else text.encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(given_text)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            json_read.loads(given_text)
        return
    assert same(json_read.loads(given_text), expected)


def test_a_literal_lone_surrogate_in_a_str() -> None:
    assert json_read.loads('["\ud800"]') == ["\ud800"]


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", "nul", '{"a": 1} x', b"\xff\xfe{}"])
def test_same_error_as_the_standard_library(text) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    with pytest.raises(type(expected.value)) as got:
        json_read.loads(text)
    assert str(got.value) == str(expected.value)


def test_too_deep_fails_as_the_standard_library_does() -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(text)
    with pytest.raises(RecursionError):
        json_read.loads(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300 * FUZZ_SCALE, deadline=None)
@given(json_values)
def test_any_json_reads_the_same(value) -> None:
    text = json.dumps(value)
    assert same(json_read.loads(text), json.loads(text))
    assert same(json_read.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


def test_the_corpus_reads_the_same() -> None:
    with gzip.open(CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz") as corpus:
        lines = corpus.readlines()[:300]
    assert len(lines) == 300
    for line in lines:
        assert same(json_read.loads(line), json.loads(line))
