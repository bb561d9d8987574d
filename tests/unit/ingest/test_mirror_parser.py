"""Mirror pages against their JSON twins, and against the grammar in ../shared/corpus/README.md."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.parsers.civitai import civitai_parse_model
from ingest.parsers.mirror import mirror_parse_page, mirror_type_from_path
from tests.conftest import CORPUS, load_json

PAGES = sorted((CORPUS / "mirror-pages").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem[:40] for p in PAGES])
def test_page_and_twin_agree_on_every_field_the_page_carries(page: Path) -> None:
    record = mirror_parse_page(page.read_bytes(), source=str(page))
    twin = civitai_parse_model(load_json(page.with_suffix(".json")), source="twin")

    assert record.name == twin.name
    assert record.type == twin.type  # from the file name
    assert record.tags == twin.tags
    assert record.description == twin.description
    for field in ("download_count", "favorite_count", "comment_count", "rating_count", "rating"):
        assert getattr(record, field) == getattr(twin, field), field
    assert len(record.versions) == len(twin.versions)
    # A version's id is in its download URLs; a version with no files does not say it.
    assert [v.civitai_id for v in record.versions] == [
        v.civitai_id if v.files else None for v in twin.versions
    ]
    for mine, theirs in zip(record.versions, twin.versions, strict=True):
        assert mine.name == theirs.name
        assert mine.base_model == theirs.base_model
        assert mine.source_updated_at == theirs.source_updated_at
        assert (mine.download_count, mine.rating_count, mine.rating) == (
            theirs.download_count,
            theirs.rating_count,
            theirs.rating,
        )
        assert [(f.name, f.download_url) for f in mine.files] == [
            (f.name, f.download_url) for f in theirs.files
        ]
        for f, t in zip(mine.files, theirs.files, strict=True):
            # The query string carries what it carries; the primary file's URL carries nothing.
            for field in ("kind", "format", "size_type", "precision"):
                if getattr(f, field) is not None:
                    assert getattr(f, field) == getattr(t, field), (f.name, field)
        assert [i.url for i in mine.images] == [i.url for i in theirs.images[:4]]
        assert [i.civitai_id for i in mine.images] == [i.civitai_id for i in theirs.images[:4]]


def test_page_fields_exactly() -> None:
    page = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md"
    record = mirror_parse_page(page.read_bytes(), source=page.name)
    assert record.name == "Moto Rider"
    assert record.type == "Checkpoint"
    assert record.tags == ("night", "girls", "motorcycle", "vehicle", "car")
    assert (record.download_count, record.favorite_count, record.comment_count) == (362, 134, 1)
    assert (record.rating_count, record.rating) == (2, 1.5)
    assert record.description == ""  # the literal "None"
    (version,) = record.versions
    assert version.civitai_id == 57040
    assert version.name == "Moto Rider v1.0"
    assert version.base_model == "SD 2.1"
    assert version.source_updated_at == datetime(2023, 4, 28, 2, 36, 18, 842000, tzinfo=UTC)
    (file,) = version.files
    assert file.name == "motoRider_motoRiderV10.safetensors"
    assert file.download_url == "https://civitai.com/api/download/models/57040"
    assert file.is_primary is True
    (image,) = version.images
    assert image.civitai_id == 619052
    assert image.url.endswith("/width=450/619052.jpeg")


def test_query_string_gives_kind_format_size_precision() -> None:
    page = CORPUS / "mirror-pages" / "Checkpoint.rank-00017.dl-110210.rating-4.95.CyberRealistic.md"
    record = mirror_parse_page(page.read_bytes(), source=page.name)
    files = [f for v in record.versions for f in v.files if "size=pruned" in f.download_url]
    assert files, "CyberRealistic lists pruned files"
    assert {(f.kind, f.format, f.size_type, f.precision) for f in files} == {
        ("Model", "SafeTensor", "pruned", "fp32")
    }
    assert all(f.is_primary is False for f in files)


def test_file_name_with_brackets_is_anchored_on_the_url() -> None:
    raw = (CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md").read_bytes()
    raw = raw.replace(b"[motoRider_motoRiderV10.safetensors]", "[宫颈[cervix](big).pt]".encode())
    record = mirror_parse_page(raw, source="page.md")
    assert record.versions[0].files[0].name == "宫颈[cervix](big).pt"


def test_tag_with_a_comma() -> None:
    raw = (CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md").read_bytes()
    raw = raw.replace(b"`night`, `girls`", b"`night, city`, `girls`")
    assert mirror_parse_page(raw, source="p.md").tags[:2] == ("night, city", "girls")


def test_page_with_no_versions() -> None:
    page = CORPUS / "mirror-pages" / "Checkpoint.rank-02311.dl-443.rating-0.oekakiMix.md"
    record = mirror_parse_page(page.read_bytes(), source=page.name)
    assert record.versions == ()
    assert record.source_key.startswith("page:")
    # The same page is recognised again: same key.
    assert mirror_parse_page(page.read_bytes(), source="elsewhere.md").source_key == record.source_key


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("LORA.rank-00558.dl-8520.rating-5.LoRA_K-AIgirl-face.md", ("LORA", None)),
        ("[TextualInversion].[排名：118].[下载量：4286].[评分：5].[Style].md", ("TextualInversion", None)),
        ("models/LORA/nsfw/markdown/page.md", ("LORA", True)),
        ("models/Checkpoint/normal/markdown/page.md", ("Checkpoint", False)),
        ("some-page.md", (None, None)),
    ],
)
def test_type_and_nsfw_from_path(path: str, expected: tuple) -> None:
    assert mirror_type_from_path(path) == expected


def test_page_without_a_type_leaves_it_to_the_writer() -> None:
    raw = (CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md").read_bytes()
    assert mirror_parse_page(raw, source="moto.md").type is None
    assert mirror_parse_page(raw, source="moto.md", model_type="LORA").type == "LORA"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.replace("### 三、详情", "### details"), "details"),
        (lambda s: s.replace("- 下载数：362", "- 下载数：many", 1), "overview.下载数"),
        (lambda s: s.replace("共1个版本）", "共2个版本）", 1), "versions"),
        (lambda s: s.replace("2023-04-28T02:36:18.842Z", "yesterday"), "versions[0].发布时间"),
        (lambda s: s.replace("## Moto Rider", "Moto Rider"), "name"),
    ],
)
def test_broken_pages_raise_parse_error_naming_the_field(mutate, field: str) -> None:
    text = (CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md").read_text()
    with pytest.raises(ParseError) as caught:
        mirror_parse_page(mutate(text).encode(), source="moto.md")
    assert caught.value.field == field
    assert str(caught.value).startswith("moto.md: ")
