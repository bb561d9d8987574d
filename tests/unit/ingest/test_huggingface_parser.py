"""HuggingFace model info and model cards."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.parsers.documents import parse_document
from ingest.parsers.huggingface import hf_parse_card, hf_parse_model
from tests.conftest import CORPUS, FUZZ_SCALE, load_json

HF = CORPUS / "huggingface"


def test_full_model_info_fields_exactly() -> None:
    record = hf_parse_model(
        load_json(HF / "model-info_CompVis_stable-diffusion-v1-4_2025-03.json"), source="h01"
    )
    assert (record.hf_repo_id, record.name, record.type) == (
        "CompVis/stable-diffusion-v1-4",
        "stable-diffusion-v1-4",
        "Checkpoint",
    )
    assert record.creator.username == "CompVis" and record.creator.provider == "huggingface"
    assert (record.download_count, record.thumbs_up_count, record.license) == (
        1155072,
        6729,
        "creativeml-openrail-m",
    )
    assert "stable-diffusion" in record.tags and not any(":" in t for t in record.tags)
    (version,) = record.versions
    assert version.hf_sha == "133a221b8aa7292a167afc5127cb63fb5005638b"
    assert version.source_created_at == datetime(2022, 8, 20, 13, 26, 13, tzinfo=UTC)
    assert version.source_updated_at == datetime(2023, 8, 23, 21, 15, 42, tzinfo=UTC)
    names = [f.name for f in version.files]
    assert "unet/diffusion_pytorch_model.safetensors" in names and "vae/diffusion_pytorch_model.bin" in names
    assert "model_index.json" not in names and "v1-variants-scores.jpg" not in names
    assert all(n.endswith((".ckpt", ".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx")) for n in names)
    unet = next(f for f in version.files if f.name == "unet/diffusion_pytorch_model.safetensors")
    assert unet.kind == "UNet" and unet.format == "SafeTensor"
    assert unet.download_url == (
        "https://huggingface.co/CompVis/stable-diffusion-v1-4/resolve/"
        "133a221b8aa7292a167afc5127cb63fb5005638b/unet/diffusion_pytorch_model.safetensors"
    )
    assert [f.name for f in version.files if f.is_primary] == ["unet/diffusion_pytorch_model.safetensors"]
    assert (
        next(f for f in version.files if f.name == "vae/diffusion_pytorch_model.fp16.safetensors").precision
        == "fp16"
    )


def test_blobs_response_gives_sizes_and_sha256() -> None:
    record = hf_parse_model(
        load_json(HF / "model-info_InvokeAI-test_textual_inversion_tests_blobs_2024-02.json"), source="h05"
    )
    (file,) = record.versions[0].files
    assert file.size_bytes == 3184
    assert file.hashes == {
        "hash_sha256": "F368050465CD473785298808C37ABD17B98E5F532C144CC1BE1F5E897092E67F",
        "hash_autov2": "F368050465",
    }
    assert record.type == "TextualInversion"
    assert record.versions[0].base_model == "SDXL 1.0"


def test_partial_expand_response_overwrites_nothing() -> None:
    record = hf_parse_model(
        load_json(HF / "model-info_ByteDance_SDXL-Lightning_expand-inferenceProviderMapping_2025-02.json"),
        source="h04",
    )
    assert record.hf_repo_id == "ByteDance/SDXL-Lightning"
    assert (record.tags, record.download_count, record.description, record.license) == (
        None,
        None,
        None,
        None,
    )
    assert record.versions == ()


def test_model_cards_front_matter_and_body() -> None:
    data, body = hf_parse_card(
        (HF / "README_Akumetsu971_SD_Samurai_Anime_Model.md").read_bytes(), source="card"
    )
    assert data["license"] == "creativeml-openrail-m"  # front matter after a leading blank line
    assert body.lstrip().startswith("# SD_Samurai_Anime_Model")
    [(_, record)] = list(
        parse_document(
            (HF / "README_Apocalypse-19_Vishu-the-Cat.md").read_bytes(),
            name="README_Apocalypse-19_Vishu-the-Cat.md",
        )
    )
    assert record.hf_repo_id == "Apocalypse-19/Vishu-the-Cat"
    assert "<h1>Dreambooth Model for Animals" in record.description
    assert record.license == "creativeml-openrail-m"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id": "no-slash"}, "id"),
        ({"id": "../../etc"}, "id"),
        ({"id": "a/b", "sha": "xyz"}, "sha"),
        ({"id": "a/b", "siblings": [{"rfilename": "../x.safetensors"}]}, "siblings[0].rfilename"),
    ],
)
def test_bad_model_info_names_the_field(data, field) -> None:
    with pytest.raises(ParseError) as caught:
        hf_parse_model(data, source="bad")
    assert caught.value.field == field


@settings(max_examples=150 * FUZZ_SCALE, deadline=None)
@given(st.binary(max_size=2000))
def test_random_cards_give_only_parse_errors(raw: bytes) -> None:
    with contextlib.suppress(ParseError):
        hf_parse_card(b"---\n" + raw, source="card")
