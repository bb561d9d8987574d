"""A private catalog (CATALOG_PRIVATE) has its own sign-in page for any active user; staff status is for the admin."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(settings):
    settings.CATALOG_PRIVATE = True
    settings.MIDDLEWARE = [*django_settings.MIDDLEWARE, "catalog.middleware.CatalogLoginRequiredMiddleware"]
    ModelFactory(name="Aurora Landscapes")


def test_a_viewer_who_is_not_staff_signs_in_and_browses(private) -> None:
    get_user_model().objects.create_user("viewer", password="a long pass phrase")
    client = Client()
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/")
    page = client.get("/accounts/login/?next=/")
    assert page.status_code == 200
    assert "This catalog is private: sign in to browse it." in page.content.decode()
    signed_in = client.post(
        "/accounts/login/", {"username": "viewer", "password": "a long pass phrase", "next": "/"}, follow=True
    )
    assert signed_in.status_code == 200
    html = signed_in.content.decode()
    assert "Aurora Landscapes" in html and "Sign out viewer" in html
    assert 'href="/admin/"' not in html  # the admin is for staff
    assert client.get("/admin/").status_code == 302  # and refuses a viewer
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_wrong_passwords_and_inactive_users_are_refused(private) -> None:
    get_user_model().objects.create_user("gone", password="a long pass phrase", is_active=False)
    client = Client()
    for username, password in [("gone", "a long pass phrase"), ("nobody", "x")]:
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 200
        assert "do not match an active account" in response.content.decode()
    assert client.get("/").status_code == 302
