"""Civitai payloads of every era (FORMATS.md): each variant parsed to the same catalog values."""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.parsers.civitai import civitai_parse_model, civitai_parse_version_payload
from ingest.parsers.documents import parse_document
from ingest.records import CreatorRecord, ImageRecord, ModelRecord, RestoreRecord, TagRecord
from tests.conftest import CORPUS, FUZZ_SCALE, load_json

RECORDS = (ModelRecord, CreatorRecord, TagRecord, ImageRecord, RestoreRecord, ParseError)
TWIN = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"


def model(**changes) -> dict:
    data = copy.deepcopy(load_json(TWIN))
    data.update(changes)
    return data


def test_model_fields_exactly() -> None:
    record = civitai_parse_model(load_json(TWIN), source="moto.json")
    assert (record.civitai_id, record.name, record.type) == (52645, "Moto Rider", "Checkpoint")
    assert record.creator.username == "xiaoen0426"
    assert record.allow_commercial_use == frozenset()  # "None"
    assert (record.allow_no_credit, record.allow_derivatives, record.allow_different_license) == (
        True,
        False,
        True,
    )
    (version,) = record.versions
    (file,) = version.files
    assert file.civitai_id == 40738
    assert file.size_bytes == round(3802986.458007812 * 1024)
    assert file.hashes == {
        "hash_autov1": "DE2F2560",
        "hash_autov2": "07CA2DC341",
        "hash_sha256": "07CA2DC341A8312AAC166ED779BF9A55BD3683FF18DECC3BAABD1247EC00A185",
        "hash_crc32": "04AB5826",
        "hash_blake3": "BD382E1E74D3F4786DAA643C93942DA41061173EE5CAC6CB646A84D9D0420C1D",
    }
    image = version.images[0]
    assert (image.civitai_id, image.width, image.height, image.nsfw_level) == (619052, 1224, 816, 1)
    assert (image.sampler, image.steps, image.cfg_scale, image.seed) == (
        "DPM++ 2M Karras",
        20,
        10.0,
        "4028093993",
    )
    assert (image.size, image.model_name, image.model_hash) == (
        "768x512",
        "orionMix_orionMixVersion2",
        "07ca2dc341",
    )
    assert image.meta["Clip skip"] == "2"
    assert image.meta["Hires upscaler"] == "Latent (bicubic antialiased)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("None", set()),
        ("Image", {"Image"}),
        ("Rent", {"Image", "RentCivit", "Rent"}),
        ("Sell", {"Image", "RentCivit", "Rent", "Sell"}),
        (["Image", "Sell"], {"Image", "Sell"}),
        ([], set()),
        ("{Image,RentCivit}", {"Image", "RentCivit"}),
    ],
)
def test_allow_commercial_use_of_every_era(value, expected) -> None:
    assert civitai_parse_model(model(allowCommercialUse=value), source="m").allow_commercial_use == expected


@pytest.mark.parametrize(
    ("image_fields", "level"),
    [
        ({"nsfw": False}, 1),
        ({"nsfw": True}, 8),
        ({"nsfw": "Soft"}, 2),
        ({"nsfw": "Mature"}, 4),
        ({"nsfwLevel": 16}, 16),
    ],
)
def test_image_nsfw_as_flag_word_or_level(image_fields, level) -> None:
    data = model()
    image = data["modelVersions"][0]["images"][0]
    image.pop("nsfw")
    image.update(image_fields)
    assert civitai_parse_model(data, source="m").versions[0].images[0].nsfw_level == level


def test_later_eras_autov3_dates_seeds_tags_and_mode() -> None:
    data = model(tags=[{"name": "night"}, {"name": "car"}], mode="Archived", nsfwLevel=31)
    version = data["modelVersions"][0]
    version["publishedAt"] = "2023-10-05T13:31:16.745"  # no Z
    version["files"][0]["hashes"]["AutoV3"] = "813EA5FB1C67"
    version["images"][0]["meta"]["seed"] = 18446744073709551615
    version["images"][0].pop("id")
    version["brandNewField"] = {"kept": True}
    record = civitai_parse_model(data, source="m")
    assert record.tags == ("night", "car")
    assert record.availability == "archived"
    assert record.nsfw_level == 31
    v = record.versions[0]
    assert v.published_at == datetime(2023, 10, 5, 13, 31, 16, 745000, tzinfo=UTC)
    assert v.files[0].hashes["hash_autov3"] == "813EA5FB1C67"
    assert v.images[0].seed == "18446744073709551615"
    assert v.images[0].civitai_id == 619052  # from the URL


def test_model_version_payloads_of_2022_and_2024() -> None:
    for name, version_id, model_id in [
        ("model-version_1318_2022-12.json", 1318, None),
        ("model-version_242807_2024-03.json", 242807, 215485),
    ]:
        record = civitai_parse_version_payload(load_json(CORPUS / "civitai" / "api" / name), source=name)
        assert record.versions_complete is False
        assert record.versions[0].civitai_id == version_id
        if model_id:
            assert record.civitai_id == model_id
    record = civitai_parse_version_payload(
        load_json(CORPUS / "civitai" / "api" / "model-version_242807_2024-03.json"), source="v"
    )
    file = record.versions[0].files[0]
    assert file.hashes["hash_autov3"] == "813EA5FB1C67F3CBF1C4DFF5D392EE5E073A2C41DCF3AB36CF6CDD872C4E7690"
    assert record.versions[0].base_model == "SDXL Turbo"
    assert record.type == "LORA"


def test_description_is_sanitized() -> None:
    record = civitai_parse_model(
        model(
            description='<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">l</a>'
            '<iframe src="https://evil"></iframe><a href="https://ok.example">ok</a></p>'
        ),
        source="m",
    )
    assert "script" not in record.description and "onclick" not in record.description
    assert "iframe" not in record.description and "javascript" not in record.description
    assert '<a href="https://ok.example" rel="nofollow noopener noreferrer">ok</a>' in record.description


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "abc"}, "id"),
        ({"name": ""}, "name"),
        ({"name": {"x": 1}}, "name"),
        ({"modelVersions": {}}, "modelVersions"),
        ({"allowCommercialUse": 5}, "allowCommercialUse"),
    ],
)
def test_wrong_types_name_the_field(changes, field) -> None:
    with pytest.raises(ParseError) as caught:
        civitai_parse_model(model(**changes), source="bad.json")
    assert caught.value.field == field
    assert "bad.json" in str(caught.value)


def test_the_4484_models_of_the_json_lines_all_parse() -> None:
    path = CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz"
    results = list(parse_document(path.read_bytes(), name=path.name))
    errors = [r for _, r in results if isinstance(r, ParseError)]
    assert errors == []
    records = [r for _, r in results]
    assert len(records) == 4484
    assert sum(len(r.versions) for r in records) == 7738
    assert sum(len(v.files) for r in records for v in r.versions) == 9986
    assert sum(len(v.images) for r in records for v in r.versions) == 57090


def test_a_bad_line_does_not_stop_the_rest() -> None:
    good = json.dumps(load_json(TWIN)).encode()
    raw = gzip.compress(good + b"\n{broken\n" + good + b"\n")
    results = list(parse_document(raw, name="x.jsonl.gz"))
    assert [type(r).__name__ for _, r in results] == ["ModelRecord", "ParseError", "ModelRecord"]
    assert results[1][0] == "x.jsonl.gz:2"


@settings(max_examples=150 * FUZZ_SCALE, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["a.json", "b.md", "c.jsonl", "d.info", "e.jsonl.gz"]))
def test_random_bytes_give_only_parse_errors(raw: bytes, name: str) -> None:
    for _, result in parse_document(raw, name=name):
        assert isinstance(result, RECORDS)


@settings(max_examples=150 * FUZZ_SCALE, deadline=None)
@given(st.data())
def test_mutated_and_truncated_payloads_give_only_parse_errors(data) -> None:
    raw = TWIN.read_bytes()
    page = TWIN.with_suffix(".md").read_bytes()
    target = data.draw(st.sampled_from([raw, page]))
    cut = data.draw(st.integers(0, len(target)))
    flip = data.draw(st.integers(0, max(len(target) - 1, 0)))
    mutated = bytearray(target[:cut])
    if mutated and flip < len(mutated):
        mutated[flip] = data.draw(st.integers(0, 255))
    name = "m.json" if target is raw else "Checkpoint.rank-1.dl-1.rating-1.x.md"
    for _, result in parse_document(bytes(mutated), name=name):
        assert isinstance(result, ModelRecord | ParseError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200 * FUZZ_SCALE, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "name",
                "type",
                "tags",
                "stats",
                "creator",
                "modelVersions",
                "allowCommercialUse",
                "nsfw",
                "mode",
                "description",
            ]
        ),
        json_values,
    )
)
def test_random_field_values_give_only_parse_errors(changes) -> None:
    with contextlib.suppress(ParseError):
        civitai_parse_model(model(**changes), source="r.json")


def test_deeply_nested_input_is_a_parse_error_not_a_crash() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    for name in ("deep.json", "deep.jsonl"):
        results = list(parse_document(deep, name=name))
        assert len(results) == 1
        assert isinstance(results[0][1], ParseError)
        assert "not JSON" in str(results[0][1])
    # Nested deeper than any decoder will walk, inside an otherwise good model's image metadata.
    text = b'{"a":' * 50_000 + b"{}" + b"}" * 50_000
    raw = json.dumps(load_json(TWIN)).encode().replace(b'"meta": {', b'"meta": {"deep": ' + text + b", ", 1)
    for _, result in parse_document(raw, name="deep-meta.json"):
        assert isinstance(result, ModelRecord | ParseError)


def test_a_superscript_nsfw_level_is_not_a_crash() -> None:
    model = load_json(TWIN)
    model["modelVersions"][0]["images"][0]["nsfwLevel"] = "²"
    results = list(parse_document(json.dumps(model).encode(), name="x.json"))
    assert isinstance(results[0][1], ModelRecord | ParseError)
