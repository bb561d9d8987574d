"""Paths on the server are read by `manage.py ingest` alone: the API and the admin take URLs, ids and uploads, and
a worker never reads a path for a run that came from them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.models import IngestRun, Model
from ingest import runs
from ingest.pipeline import ingest_run_execute
from tests.conftest import CORPUS

pytestmark = pytest.mark.django_db

PAGE = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"


@pytest.mark.parametrize(
    "source", ["/etc/passwd", str(CORPUS / "mirror-pages"), str(PAGE), "../shared/corpus/mirror-pages", "~/x"]
)
def test_the_api_refuses_a_path_naming_it(token_api, source: str) -> None:
    response = token_api.post("/api/ingest", {"sources": ["1044", source]}, format="json")
    assert response.status_code == 400
    message = response.json()["sources"]["1"][0]
    assert message.startswith(repr(source))
    assert "a path on the server: only manage.py ingest" in message
    assert IngestRun.objects.count() == 0
    assert Model.objects.count() == 0


def test_the_admin_form_refuses_a_path(client) -> None:
    admin = get_user_model().objects.create_superuser("boss", "b@example.org", "pw")
    client.force_login(admin)
    response = client.post(
        "/admin/catalog/ingestrun/ingest/", {"sources": f"1044\n{CORPUS / 'mirror-pages'}"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "a path on the server: only manage.py ingest" in response.content.decode()
    assert IngestRun.objects.count() == 0


def test_a_run_that_may_not_read_files_never_opens_one() -> None:
    """A run queued by the API or the admin whose source names a path (a relative one looks like a HuggingFace
    id) is fetched or refused, never read from the server's disk."""
    run = runs.ingest_run_create(kind="ingest", sources=[str(PAGE), "/etc/passwd"])
    run = ingest_run_execute(run)
    assert Model.objects.count() == 0
    assert run.failed_count == 2
    assert [e["input"] for e in run.errors] == [str(PAGE), "/etc/passwd"]
    assert all(e["message"].startswith("a path on the server: only manage.py ingest") for e in run.errors)


def test_manage_py_ingest_still_reads_files() -> None:
    from django.core.management import call_command

    call_command("ingest", str(PAGE), "--no-progress")
    run = IngestRun.objects.get()
    assert run.local_files is True
    assert Model.objects.filter(civitai_id=52645).exists()
