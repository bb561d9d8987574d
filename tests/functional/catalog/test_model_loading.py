"""Rows become model instances without Model.__init__ (TimestampedModel.from_db): the same instances as Django's
own from_db makes, deferred fields, related rows, saving and signals included."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models.signals import post_init

from catalog.models import Image, Model
from tests.factories import ImageFactory, ModelFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def _django_from_db(instance: models.Model) -> models.Model:
    """The instance Django's own from_db makes of the same values."""
    names = [name for name in instance.__dict__ if name != "_state"]
    values = [instance.__dict__[name] for name in names]
    return models.Model.from_db.__func__(type(instance), instance._state.db, names, values)


def _fields(instance: models.Model) -> dict:
    return {name: value for name, value in instance.__dict__.items() if name != "_state"}


def test_a_loaded_instance_is_what_djangos_from_db_makes() -> None:
    model = ModelFactory(name="Aurora", description="<p>long</p>", rating=4.5)
    ModelVersionFactory(model=model, name="v1")
    loaded = Model.objects.select_related("creator").defer("description", "search_vector").get(pk=model.pk)
    theirs = _django_from_db(loaded)
    assert _fields(loaded) == _fields(theirs) and loaded.name == "Aurora" and loaded.rating == 4.5
    assert loaded.get_deferred_fields() == theirs.get_deferred_fields() == {"description", "search_vector"}
    assert (
        (loaded._state.adding, loaded._state.db)
        == (theirs._state.adding, theirs._state.db)
        == (False, "default")
    )
    assert loaded.creator.username == model.creator.username  # the related row, read with it
    assert loaded.description == "<p>long</p>"  # a deferred field, read when asked
    assert [v.name for v in loaded.versions.all()] == ["v1"]

    loaded.name = "Aurora II"
    loaded.save(update_fields=["name"])  # an update of the row it came from, not a new row
    assert Model.objects.count() == 1 and Model.objects.get().name == "Aurora II"


def test_file_fields_read_as_django_reads_them() -> None:
    image = ImageFactory(thumbnail="images/thumbnail/a.webp")
    loaded = Image.objects.get(pk=image.pk)
    assert _fields(loaded) == _fields(_django_from_db(loaded))
    assert loaded.thumbnail.name == "images/thumbnail/a.webp" and not loaded.original


def test_with_a_post_init_receiver_djangos_own_from_db_is_used() -> None:
    ModelFactory(name="Aurora")
    seen = []

    def receiver(sender, instance, **kwargs) -> None:
        seen.append(instance.name)

    post_init.connect(receiver, sender=Model)
    try:
        assert Model.objects.get().name == "Aurora"
    finally:
        post_init.disconnect(receiver, sender=Model)
    assert seen == ["Aurora"]
