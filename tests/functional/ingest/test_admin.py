"""The ingest app's admin: the ingest form takes URLs, ids and uploaded files and refuses what it cannot take;
re-sync answers the admin's page before it runs."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from catalog.models import IngestRun, Model
from tests.conftest import CORPUS, admin_action, admin_history
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def test_ingest_form_takes_urls_and_uploaded_files(admin_client, django_capture_on_commit_callbacks) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import CORPUS

    page = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md"
    twin = page.with_name(page.name.replace(".md", ".json"))
    listing = admin_client.get(reverse("admin:catalog_ingestrun_changelist")).content.decode()
    assert reverse("admin:catalog_ingestrun_ingest") in listing
    refused = admin_client.post(
        reverse("admin:catalog_ingestrun_ingest"), {"sources": "not a source at all\n"}
    )
    assert refused.status_code == 200
    assert "not a source at all: not a file, URL, Civitai version id or HuggingFace repo id" in (
        refused.content.decode()
    )
    assert not IngestRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:catalog_ingestrun_ingest"),
            {
                "sources": "",
                "files": [
                    SimpleUploadedFile(twin.name, twin.read_bytes(), content_type="application/json"),
                    SimpleUploadedFile("moto.md", page.read_bytes(), content_type="text/markdown"),
                ],
                "model_type": "Checkpoint",
            },
            follow=True,
        )
    run = IngestRun.objects.get()
    assert f"Queued ingest run #{run.pk} for 2 source(s)." in response.content.decode()
    assert (run.created_count, run.unchanged_count, run.failed_count, run.status) == (1, 1, 0, "succeeded")
    assert Model.objects.get().name == "Moto Rider"
    # The change page of the run shows its counts.
    page_html = admin_client.get(reverse("admin:catalog_ingestrun_change", args=[run.pk])).content.decode()
    assert "succeeded" in page_html.lower()


def test_ingest_form_needs_something(admin_client) -> None:
    response = admin_client.post(reverse("admin:catalog_ingestrun_ingest"), {"sources": "  "})
    assert "Give at least one URL, id or file." in response.content.decode()
    assert IngestRun.objects.count() == 0


# PostgreSQL: the run writes from a thread of its own while the test reads, which the test run's in-memory SQLite
# (shared cache, table locks, no busy timeout) refuses at once; the embedded catalog's SQLite file waits instead.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_resync_without_a_task_queue_answers_first_and_runs_after(settings, httpserver) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CIVITAI_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.INGEST_ALLOWED_HOSTS = ["127.0.0.1"]
    twin = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"

    def slow(request):
        time.sleep(1.5)  # a source that takes its time: the admin's page must not wait for it
        from werkzeug import Response

        return Response(twin.read_bytes(), content_type="application/json")

    httpserver.expect_request("/api/v1/models/52645").respond_with_handler(slow)
    model = ModelFactory(civitai_id=52645, name="Old name")
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("boss", "b@example.org", "pw"))
    started = time.monotonic()
    response = admin_action(admin, "resync", [model])
    answered = time.monotonic() - started
    run = IngestRun.objects.get(kind="resync")
    assert (
        f"Re-sync started as ingest run #{run.pk} in this process, after this page"
        in response.content.decode()
    )
    assert answered < 1.5  # the page came before the source answered
    deadline = time.monotonic() + 30
    while IngestRun.objects.get(pk=run.pk).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    run.refresh_from_db()
    assert run.status == "succeeded", (run.status, run.errors)
    assert Model.objects.get(pk=model.pk).name == "Moto Rider"
    assert admin_history(model) == [f"Re-sync asked (ingest run #{run.pk})."]
