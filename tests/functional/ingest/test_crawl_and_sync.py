"""Crawls walk the providers' pages; syncs update models and mark the ones gone at the source."""

from __future__ import annotations

import copy
import gzip
import itertools
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import IngestRun, Model
from ingest import tasks, writer
from tests.conftest import CORPUS, load_json

pytestmark = pytest.mark.django_db

MOTO = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"
HF = CORPUS / "huggingface" / "model-info_CompVis_stable-diffusion-v1-4_2025-03.json"


def corpus_models(n: int) -> list[dict]:
    with gzip.open(CORPUS / "civitai" / "checkpoints-2023-07-04.jsonl.gz") as lines:
        return [json.loads(line) for line in itertools.islice(lines, n)]


def test_civitai_crawl_follows_the_cursor_until_the_limit(standin, capsys) -> None:
    models = corpus_models(5)
    standin.expect_ordered_request(
        "/api/v1/models",
        query_string={"limit": "100", "nsfw": "true", "types": "Checkpoint", "sort": "Newest"},
    ).respond_with_json({"items": models[:3], "metadata": {"nextCursor": "3|abc"}})
    standin.expect_ordered_request(
        "/api/v1/models",
        query_string={
            "limit": "100",
            "nsfw": "true",
            "types": "Checkpoint",
            "sort": "Newest",
            "cursor": "3|abc",
        },
    ).respond_with_json({"items": models[3:], "metadata": {"nextCursor": "5|def"}})
    call_command(
        "crawl", "civitai", "--types", "Checkpoint", "--sort", "Newest", "--limit", "4", "--no-progress"
    )
    assert Model.objects.count() == 4
    assert set(Model.objects.values_list("civitai_id", flat=True)) == {m["id"] for m in models[:4]}
    run = IngestRun.objects.get()
    assert (run.kind, run.created_count, run.status) == ("crawl", 4, "succeeded")
    assert "Crawl run #" in capsys.readouterr().out


def test_civitai_crawl_stops_without_a_next_cursor(standin) -> None:
    standin.expect_request("/api/v1/models").respond_with_json({"items": corpus_models(2), "metadata": {}})
    call_command("crawl", "civitai", "--no-progress")
    assert Model.objects.count() == 2


def test_huggingface_crawl_follows_the_link_header(standin) -> None:
    first = load_json(HF)
    second = copy.deepcopy(first)
    second.update(id="someone/other-model", modelId="someone/other-model", _id="0" * 24)
    next_url = standin.url_for("/api/models") + "?cursor=abc"
    standin.expect_ordered_request(
        "/api/models",
        query_string={"limit": "100", "full": "true", "cardData": "true", "search": "diffusion"},
    ).respond_with_json([first], headers={"Link": f'<{next_url}>; rel="next"'})
    standin.expect_ordered_request("/api/models", query_string="cursor=abc").respond_with_json([second])
    call_command("crawl", "huggingface", "--search", "diffusion", "--no-progress")
    assert set(Model.objects.values_list("hf_repo_id", flat=True)) == {
        "CompVis/stable-diffusion-v1-4",
        "someone/other-model",
    }


def test_sync_updates_and_marks_models_gone_at_the_source(
    standin, django_capture_on_commit_callbacks
) -> None:
    data = load_json(MOTO)
    writer.model_upsert(services_record(data))
    gone = copy.deepcopy(data)
    gone.update(id=777, name="Gone Model")
    for v in gone["modelVersions"]:
        v["id"] += 10**6
        for f in v["files"]:
            f["id"] += 10**6
        for i in v["images"]:
            i["id"] += 10**6
            i["url"] = i["url"].replace(".jpeg", "0.jpeg")
    writer.model_upsert(services_record(gone))
    newer = copy.deepcopy(data)
    newer["stats"]["downloadCount"] = 9999
    standin.expect_request("/api/v1/models/52645").respond_with_json(newer)
    standin.expect_request("/api/v1/models/777").respond_with_json(
        {"error": "No model with id 777"}, status=404
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.models_resync_queue(
            model_ids=list(Model.objects.values_list("pk", flat=True)), kind="sync"
        )
    run.refresh_from_db()
    assert (run.updated_count, run.failed_count, run.status) == (1, 1, "partial")
    assert "Civitai has no model 777 (HTTP 404)" in run.errors[0]["message"]
    assert Model.objects.get(civitai_id=52645).download_count == 9999
    gone_model = Model.objects.get(civitai_id=777)
    assert gone_model.availability == "removed"
    assert gone_model.versions.get().files.count() == 1  # its last good data stays


def test_due_models_are_queued_for_sync(settings) -> None:
    settings.SYNC_INTERVAL_HOURS = 0
    writer.model_upsert(services_record(load_json(MOTO)))
    run = tasks.models_sync_due_queue()
    assert run.kind == "sync"
    assert run.sources == [f"{settings.CIVITAI_BASE_URL}/models/52645"]


def test_crawl_refuses_a_bad_limit() -> None:
    with pytest.raises(CommandError, match="--limit must be 1 or more"):
        call_command("crawl", "civitai", "--limit", "0")


def services_record(data: dict):
    from ingest.parsers.civitai import civitai_parse_model

    return civitai_parse_model(data, source="test")
