"""The export line parser: a record survives the round trip exactly, and damaged lines give only ParseError."""

from __future__ import annotations

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.exports import _plain
from ingest.parsers.civitai import civitai_parse_model
from ingest.parsers.documents import parse_document
from ingest.parsers.export import export_parse_line
from ingest.records import RestoreRecord
from tests.conftest import CORPUS, FUZZ_SCALE, load_json

CYBER = CORPUS / "mirror-pages" / "Checkpoint.rank-00017.dl-110210.rating-4.95.CyberRealistic.json"


def _line(record, extras=None) -> dict:
    return {
        "id": 1,
        "name": record.name,
        "catalog": {"exportVersion": 1, "record": _plain(record), "extras": extras or {}},
    }


def test_a_record_comes_back_from_its_export_line_exactly() -> None:
    record = civitai_parse_model(load_json(CYBER), source="cyber")
    line = json.loads(json.dumps(_line(record, {"hidden": True})))  # through real JSON text

    restored = export_parse_line(line, source="export.jsonl:1")

    assert restored.record == record
    assert restored.record.payload_hash() == record.payload_hash()
    assert restored.extras == {"hidden": True}


def test_wrong_types_are_errors_that_name_the_field() -> None:
    record = civitai_parse_model(load_json(CYBER), source="cyber")
    line = _line(record)
    line["catalog"]["record"]["versions"][1]["files"][0]["size_bytes"] = "large"
    results = list(parse_document(json.dumps(line).encode(), name="export.json"))
    assert len(results) == 1
    error = results[0][1]
    assert isinstance(error, ParseError)
    assert "catalog.record.versions[1].files[0].size_bytes" in str(error)
    assert "expected int, got str" in str(error)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150 * FUZZ_SCALE, deadline=None)
@given(st.data())
def test_damaged_export_lines_give_only_restore_records_or_parse_errors(data) -> None:
    record = civitai_parse_model(load_json(CYBER), source="cyber")
    line = copy.deepcopy(_line(record))
    target = line["catalog"]["record"]
    for _ in range(data.draw(st.integers(1, 4))):
        # Walk into the record and replace one value with anything JSON can hold.
        node = target
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = data.draw(st.sampled_from(keys))
            if isinstance(node[key], dict | list) and node[key] and data.draw(st.booleans()):
                node = node[key]
                continue
            node[key] = data.draw(json_values)
            break
    for _, result in parse_document(json.dumps(line).encode(), name="export.jsonl"):
        assert isinstance(result, RestoreRecord | ParseError)
