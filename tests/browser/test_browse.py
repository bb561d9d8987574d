"""What a person does in a real browser: search, filter, open a card, open an image and read its prompt, copy a
hash; screenshots of the list and the card at desktop and phone width go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from catalog.models import Model, ModelFile
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def card_names(page) -> list[str]:
    return page.locator(".results .card h2").all_inner_texts()


def test_search_and_filter(page) -> None:
    page.goto("/")
    assert len(card_names(page)) == Model.objects.filter(nsfw=False).count()
    page.fill("#q", "inkwash")
    page.press("#q", "Enter")
    page.wait_for_url("**/?query=inkwash")
    assert card_names(page) == ["Inkwash Style"]
    page.goto("/")
    page.check("#filters input[name=type][value=LORA]")  # the facet submits itself
    page.wait_for_url("**type=LORA**")
    names = card_names(page)
    assert names and set(names) == set(Model.objects.filter(type="LORA").values_list("name", flat=True))
    assert page.locator("#filters input[name=type][value=LORA]").is_checked()
    page.go_back()
    page.wait_for_url(lambda url: "type=LORA" not in url)


def test_open_a_card_then_an_image_and_read_its_prompt(page) -> None:
    page.goto("/")
    page.click("text=Aurora Landscapes XL")
    page.wait_for_selector("h1:has-text('Aurora Landscapes XL')")
    assert page.locator(".version h2").all_inner_texts() == ["v2.0", "v1.0"]
    page.locator("figure[data-image] a").first.click()
    viewer = page.locator("#viewer")
    assert viewer.is_visible()
    assert viewer.locator(".meta-prompt").inner_text().startswith("northern lights over a frozen lake")
    assert viewer.locator(".meta-seed").inner_text() == "1234567890123"
    page.keyboard.press("ArrowRight")
    assert viewer.locator(".meta-prompt").inner_text().startswith("misty mountain valley")
    assert viewer.locator(".meta-seed").inner_text() == "18446744073709551615"
    page.keyboard.press("Escape")
    assert not viewer.is_visible()


def test_copy_a_hash(page) -> None:
    model = Model.objects.get(name="Aurora Landscapes XL")
    page.goto(model.get_absolute_url())
    file = ModelFile.objects.get(version__model=model, is_primary=True, version__position=0)
    page.click(f"button[aria-label='Copy SHA256 of {file.name}'] >> nth=0")
    assert page.evaluate("navigator.clipboard.readText()") == file.hash_sha256
    page.click(f"button[aria-label='Copy AutoV2 of {file.name}'] >> nth=0")
    assert page.evaluate("navigator.clipboard.readText()") == file.hash_autov2


@pytest.mark.parametrize(("width", "height", "label"), [(1366, 900, "desktop"), (390, 844, "phone")])
def test_screenshots_of_the_list_and_the_card(page, width, height, label) -> None:
    page.set_viewport_size({"width": width, "height": height})
    for name, url in [
        ("list", "/"),
        ("card", Model.objects.get(name="Aurora Landscapes XL").get_absolute_url()),
    ]:
        page.goto(url)
        # Nothing is wider than the screen (wide tables scroll inside their own box).
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"{name} overflows at {width}px"
        )
        assert screenshot(page, f"{name}-{label}").stat().st_size > 10_000


def test_admin_and_api_docs_run_under_the_content_security_policy(page, live_server) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.org", "a-long-password-1")
    page.goto("/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-password-1")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Curate the catalog")
    response = page.goto("/admin/catalog/model/")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    page.click("text=Aurora Landscapes XL")
    page.wait_for_selector("h2:has-text('Model versions')")
    response = page.goto("/api/docs/")
    page.wait_for_selector("text=Catalog API")  # Swagger UI rendered from this site's own files
    # The page fixture fails the test on any console error, CSP refusals included.


def test_every_page_sends_a_csp_without_inline_scripts(page) -> None:
    for url in ["/", "/stats/", Model.objects.get(name="Inkwash Style").get_absolute_url(), "/admin/login/"]:
        response = page.goto(url)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline' ;" not in policy
        assert page.locator("script:not([src])").count() == 0, url


@pytest.mark.parametrize(("width", "height", "label"), [(1400, 900, "desktop"), (390, 844, "phone")])
def test_stats_and_index_pages_fit_the_window(page, width, height, label) -> None:
    """The stats page as staff see it (with the ingest runs, whose table is the widest), and the index pages."""
    from django.contrib.auth import get_user_model

    from catalog.models import IngestRun

    get_user_model().objects.create_superuser("boss", "boss@example.org", "a-long-password-1")
    IngestRun.objects.create(kind="resync", sources=["https://civitai.com/models/4201"], status="succeeded")
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Sign out boss")
    for name, url in [("stats", "/stats/"), ("tags", "/tags/"), ("base-models", "/base-models/")]:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"{name} overflows at {width}px"
        )
        assert screenshot(page, f"{name}-{label}").stat().st_size > 5_000
    page.goto("/stats/")
    assert page.locator("caption:has-text('Recent ingests')").is_visible()
