"""Fetchers against a loopback stand-in for Civitai and HuggingFace serving the corpus at the real paths."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import IngestRun, Model
from ingest.errors import FetchError, UnsafeURLError
from ingest.fetchers import Fetcher, classify_source, url_check
from tests.conftest import CORPUS

pytestmark = pytest.mark.django_db

MOTO = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"
VERSION = CORPUS / "civitai" / "api" / "model-version_242807_2024-03.json"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://civitai.com/models/1069", ("civitai-model", "1069")),
        ("https://civitai.com/models/1069/some-slug", ("civitai-model", "1069")),
        ("https://civitai.com/models/1069?modelVersionId=1044", ("civitai-version", "1044")),
        ("https://civitai.com/api/download/models/1044", ("civitai-version", "1044")),
        ("1044", ("civitai-version", "1044")),
        (
            "https://huggingface.co/ai-characters/4elements-diffusion",
            ("huggingface", "ai-characters/4elements-diffusion"),
        ),
        ("CompVis/stable-diffusion-v1-4", ("huggingface", "CompVis/stable-diffusion-v1-4")),
    ],
)
def test_sources_are_recognised(source, expected) -> None:
    assert classify_source(source) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "file:///etc/passwd",
        "gopher://civitai.com/",
        "http://10.0.0.5/",
        "https://evil.example.com/models/1",
    ],
)
def test_unsafe_urls_are_refused_before_connecting(url) -> None:
    with pytest.raises(UnsafeURLError):
        url_check(url)


def test_ingest_a_civitai_model_url(standin) -> None:
    standin.expect_request("/api/v1/models/52645").respond_with_data(
        MOTO.read_bytes(), content_type="application/json"
    )
    call_command("ingest", "https://civitai.com/models/52645/moto-rider", "--no-progress")
    model = Model.objects.get(civitai_id=52645)
    assert model.name == "Moto Rider"


def test_a_version_id_ingests_its_model_and_its_metadata(standin) -> None:
    standin.expect_request("/api/v1/model-versions/242807").respond_with_data(
        VERSION.read_bytes(), content_type="application/json"
    )
    standin.expect_request("/api/v1/models/215485").respond_with_data(
        b'{"error":"No model with id 215485"}', status=404
    )
    with pytest.raises(CommandError):
        call_command("ingest", "242807", "--no-progress")
    run = IngestRun.objects.get()
    assert run.failed_count == 1
    assert "Civitai has no model 215485 (HTTP 404)" in run.errors[0]["message"]


def test_retries_429_with_retry_after_then_succeeds(standin) -> None:
    waits = []
    standin.expect_ordered_request("/x").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3"}
    )
    standin.expect_ordered_request("/x").respond_with_data("oops", status=500)
    standin.expect_ordered_request("/x").respond_with_data('{"ok": true}')
    with Fetcher(sleep=waits.append) as fetcher:
        assert fetcher.get(standin.url_for("/x")).json() == {"ok": True}
    assert waits[0] == 3.0
    assert len(waits) == 2


def test_oversized_body_and_redirect_to_another_host_are_refused(standin) -> None:
    standin.expect_request("/big").respond_with_data(b"x" * 5000)
    standin.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/"}
    )
    with Fetcher(max_bytes=1000, sleep=lambda s: None) as fetcher:
        with pytest.raises(FetchError, match="over the 1000 bytes limit"):
            fetcher.get(standin.url_for("/big"))
        with pytest.raises(UnsafeURLError, match="not in INGEST_ALLOWED_HOSTS"):
            fetcher.get(standin.url_for("/hop"))


def test_api_key_goes_only_to_civitai(standin, settings) -> None:
    settings.CIVITAI_API_KEY = "secret-key-123"
    standin.expect_request(
        "/api/v1/models/52645", headers={"Authorization": "Bearer secret-key-123"}
    ).respond_with_data(MOTO.read_bytes(), content_type="application/json")
    call_command("ingest", f"{settings.CIVITAI_BASE_URL}/models/52645", "--no-progress")
    assert Model.objects.filter(civitai_id=52645).exists()


def test_slow_response_times_out_and_is_retried(standin, settings) -> None:
    import time as _time

    from ingest.errors import TransientFetchError

    settings.INGEST_TIMEOUT_SECONDS = 0.3

    def slow(request):
        _time.sleep(1.0)
        from werkzeug import Response

        return Response("late")

    standin.expect_request("/slow").respond_with_handler(slow)
    waits = []
    with Fetcher(sleep=waits.append) as fetcher, pytest.raises(TransientFetchError, match="timed out"):
        fetcher.get(standin.url_for("/slow"))
    assert len(waits) == 4  # retried with backoff, then given up


def test_hf_token_goes_only_to_huggingface(standin, settings) -> None:
    settings.HF_TOKEN = "hf_secret"
    settings.CIVITAI_BASE_URL = "https://civitai.com"
    info = CORPUS / "huggingface" / "model-info_InvokeAI-test_textual_inversion_tests_blobs_2024-02.json"
    standin.expect_request(
        "/api/models/InvokeAI-test/textual_inversion_tests", headers={"Authorization": "Bearer hf_secret"}
    ).respond_with_data(info.read_bytes(), content_type="application/json")
    call_command("ingest", "InvokeAI-test/textual_inversion_tests", "--no-progress")
    model = Model.objects.get(hf_repo_id="InvokeAI-test/textual_inversion_tests")
    assert model.type == "TextualInversion"
    assert model.versions.get().files.get().hash_sha256.startswith("F368050465")


def test_a_name_that_resolves_to_loopback_is_refused_even_when_allowed(settings) -> None:
    # The allow-list names the host, but it resolves to 127.0.0.1: only the address itself would let it through.
    settings.INGEST_ALLOWED_HOSTS = ["localhost"]
    with pytest.raises(UnsafeURLError, match="resolves to a non-public address"):
        url_check("http://localhost:8000/api/v1/models/1")
    settings.INGEST_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "::1"]
    url_check("http://localhost:8000/api/v1/models/1")  # named by address: a deliberate local stand-in


def test_a_name_whose_answer_changes_after_the_check_is_never_followed_to_loopback(
    standin, settings, monkeypatch
) -> None:
    """DNS rebinding: the name resolves to a public address when it is checked, then to 127.0.0.1. The fetcher
    connects to the address it checked (which does not answer here), and the next check refuses loopback: the
    stand-in on 127.0.0.1 never sees a request."""
    import socket

    from ingest.errors import IngestError

    settings.INGEST_ALLOWED_HOSTS = ["rebind.example"]
    settings.INGEST_TIMEOUT_SECONDS = 0.3
    port = standin.port
    real_getaddrinfo = socket.getaddrinfo
    asked = []

    def rebinding_dns(host, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, *args, **kwargs)
        asked.append(host)
        address = "93.184.216.34" if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    standin.expect_request("/internal").respond_with_data("internal data")

    with Fetcher(sleep=lambda s: None) as fetcher, pytest.raises(IngestError) as refused:
        fetcher.get(f"http://rebind.example:{port}/internal")

    assert standin.log == []
    assert "non-public address (127.0.0.1)" in refused.value.message
