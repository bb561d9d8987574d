"""A card's counts and rating, written without Django's filters, are what intcomma and floatformat:2 write."""

from __future__ import annotations

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from hypothesis import given
from hypothesis import strategies as st

from catalog.models import Creator, Model
from catalog.templatetags.catalog_tags import _count, _two_places, model_card


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_a_count_is_what_intcomma_writes(value: int) -> None:
    assert _count(value) == intcomma(value)


@pytest.mark.parametrize("value", [None, "1234", 12.5, True, 0, 999, 1000])
def test_other_counts_are_what_intcomma_writes(value) -> None:
    assert _count(value) == intcomma(value)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-(10**18), max_value=10**18))
def test_a_rating_is_what_floatformat_writes(value) -> None:
    assert _two_places(value) == floatformat(value, 2)


@pytest.mark.parametrize(
    "value, written",
    [(4.675, "4.68"), (2.675, "2.68"), (-1.005, "-1.01"), (-0.0, "0.00"), (-0.004, "0.00"), (5, "5.00"),
     (1e-300, floatformat(1e-300, 2)), (None, ""), ("4.5", "4.50")],
)  # fmt: skip
def test_ratings_round_half_up_as_floatformat_does(value, written: str) -> None:
    assert _two_places(value) == written == floatformat(value, 2)


def test_a_card_shows_its_counts_and_rating() -> None:
    model = Model(pk=3, name="Card", slug="card", type="LORA", download_count=1234567, favorite_count=1000,
                  rating=4.675, rating_count=2, availability="active")  # fmt: skip
    model.creator = Creator(username="ann")
    model.card_version = None
    html = model_card(model)
    assert "⬇</span> 1,234,567<" in html
    assert "♥</span> 1,000<" in html
    assert "★</span> 4.68<" in html
    assert 'href="/creators/ann/"' in html
