"""Admin: every changelist and change form renders with a bounded query count; curation actions work."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import IngestRun, Model, ModelVersion, SourceRecord
from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db

ADMINS = ["model", "modelversion", "modelfile", "image", "tag", "creator", "sourcerecord", "ingestrun"]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    return client


def build_catalog(n: int) -> None:
    tags = [TagFactory() for _ in range(3)]
    for _ in range(n):
        version = ModelVersionFactory()
        version.model.tags.set(tags)
        SourceRecord.objects.create(
            model=version.model, provider="civitai", external_id=str(version.model.civitai_id)
        )
        ModelFileFactory(version=version)
        ImageFactory(version=version)
    IngestRun.objects.bulk_create([IngestRun(kind="ingest", sources=["x"]) for _ in range(n)])


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ADMINS)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, name: str) -> None:
    url = reverse(f"admin:catalog_{name}_changelist")
    build_catalog(5)
    small = queries_for(admin_client, url)
    build_catalog(45)
    large = queries_for(admin_client, url)
    assert large == small, f"{name}: {small} queries at 5 rows, {large} at 50"
    assert small <= 15


@pytest.mark.parametrize("name", ADMINS)
def test_change_form_query_count_is_bounded(admin_client, name: str) -> None:
    build_catalog(5)
    model_class = {m._meta.model_name: m for m in (Model, ModelVersion, IngestRun, SourceRecord)}
    from catalog import models as catalog_models

    cls = model_class.get(name) or getattr(
        catalog_models, {"modelfile": "ModelFile", "image": "Image", "tag": "Tag", "creator": "Creator"}[name]
    )
    obj = cls.objects.order_by("pk").first()
    url = reverse(f"admin:catalog_{name}_change", args=[obj.pk])
    small = queries_for(admin_client, url)
    # A model with many versions, files and images: inlines must not query per row.
    if name in ("model", "modelversion"):
        model = Model.objects.order_by("pk").first()
        for _ in range(10):
            version = ModelVersionFactory(model=model)
            ModelFileFactory(version=version)
            ImageFactory(version=version)
        large = queries_for(admin_client, url)
        assert large <= small + 2, f"{name}: {small} then {large}"
    assert small <= 40


def test_changelist_search_and_filters(admin_client) -> None:
    build_catalog(3)
    target = Model.objects.order_by("pk").first()
    target.versions.update(base_model="Pony")
    url = reverse("admin:catalog_model_changelist")
    for query in [
        f"?q={target.name}",
        "?base_model=Pony",
        "?provider=civitai",
        "?hidden__exact=0",
        "?type__exact=LORA",
        f"?tag={target.tags.first().name}",
    ]:
        response = admin_client.get(url + query)
        assert response.status_code == 200
        assert target.name in response.content.decode(), query


def run_action(admin_client, action: str, models, **extra) -> object:
    return admin_client.post(
        reverse("admin:catalog_model_changelist"),
        {"action": action, "_selected_action": [m.pk for m in models], **extra},
        follow=True,
    )


def test_hide_feature_actions(admin_client) -> None:
    models = [ModelFactory(), ModelFactory()]
    run_action(admin_client, "hide", models)
    assert Model.objects.filter(hidden=True).count() == 2
    run_action(admin_client, "unhide", models[:1])
    assert list(Model.objects.filter(hidden=True)) == [models[1]]
    response = run_action(admin_client, "feature", models)
    assert "Featured 2 model(s)." in response.content.decode()
    assert Model.objects.filter(featured=True).count() == 2


def test_merge_action_folds_duplicates_into_the_oldest(admin_client) -> None:
    keep = ModelFactory(civitai_id=None, name="Aurora")
    ModelVersionFactory(model=keep)
    dup = ModelFactory(civitai_id=555, name="Aurora (copy)", admin_notes="from a mirror page")
    ImageFactory(version=ModelVersionFactory(model=dup))
    dup.tags.add(TagFactory(name="landscape"))
    response = run_action(admin_client, "merge", [keep, dup], confirm="yes")
    assert "Merged 1 model(s) into “Aurora”" in response.content.decode()
    assert list(Model.objects.all()) == [keep]
    keep.refresh_from_db()
    assert keep.civitai_id == 555
    assert keep.versions.count() == 2
    assert keep.image_count == 1
    assert list(keep.tags.values_list("name", flat=True)) == ["landscape"]
    assert keep.admin_notes == "from a mirror page"
