"""Real-browser tests: Playwright driving Debian's chromium (/usr/bin/chromium), never a downloaded browser."""

from __future__ import annotations

from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def sample_catalog(transactional_db):
    """The sample catalog the repo ships, with its locally drawn images."""
    from django.core.management import call_command

    call_command("load_sample", verbosity=0)


@pytest.fixture
def page(browser, live_server, sample_catalog):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.js_errors = errors
    yield page
    context.close()
    assert errors == [], f"errors in the page: {errors}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Lazy images load once scrolled to: scroll through the page first, so the full-page shot has them.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path
