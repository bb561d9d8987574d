"""A model card's and a creator's URLs, built without reverse(), are what reverse() gives."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from catalog.models import Creator, Model, creator_url, model_url

SLUGS = ["model", "funfunfunmix-紫虚液", "a-b_c", "x" * 255, "ünï-çødé", "50%-off", "it's+fine", "a b?c#d"]


@pytest.mark.parametrize("prefix", ["/", "/catalog/", "/sub path/"])
@pytest.mark.parametrize("slug", SLUGS)
def test_model_url_is_what_reverse_gives(slug: str, prefix: str) -> None:
    set_script_prefix(prefix)  # what a deployment under a sub-path (SCRIPT_NAME) sets per request
    try:
        expected = reverse("catalog:model_detail", kwargs={"pk": 42, "slug": slug})
        assert model_url(42, slug) == expected
        assert Model(pk=42, name="x", slug=slug).get_absolute_url() == expected
    finally:
        set_script_prefix("/")


def test_a_model_without_a_slug_links_to_the_model_placeholder_slug() -> None:
    assert Model(pk=7, name="x", slug="").get_absolute_url() == "/models/7/model/"


def test_a_slug_the_pattern_cannot_match_fails_as_reverse_does() -> None:
    with pytest.raises(NoReverseMatch):
        model_url(7, "a/b")


USERNAMES = [
    "alice",
    "Ünïcødé 紫虚",
    "a/b/c",
    "50% off",
    "it's+fine",
    "a b?c#d",
    "x" * 255,
    "..",
    "~me@host:1",
]


@pytest.mark.parametrize("prefix", ["/", "/sub path/"])
@pytest.mark.parametrize("username", USERNAMES)
def test_creator_url_is_what_reverse_gives(username: str, prefix: str) -> None:
    set_script_prefix(prefix)
    try:
        expected = reverse("catalog:creator", kwargs={"username": username})
        assert creator_url(username) == expected
        assert Creator(username=username).get_absolute_url() == expected
    finally:
        set_script_prefix("/")


def test_an_empty_username_fails_as_reverse_does() -> None:
    with pytest.raises(NoReverseMatch):
        creator_url("")
