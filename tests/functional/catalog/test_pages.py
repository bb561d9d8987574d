"""The pages a new user sees first: the list, a model's card, tag and creator pages, and the 404."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_list_shows_visible_models_only(client) -> None:
    shown = ModelFactory(name="Aurora Landscapes")
    ModelFactory(name="Secret Model", hidden=True)
    html = client.get("/").content.decode()
    assert "Aurora Landscapes" in html
    assert "Secret Model" not in html
    assert client.get(f"/models/{ModelFactory(hidden=True).pk}/x/").status_code == 404
    assert client.get(shown.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("pk", ["0", "987654321", str(2**63), "99999999999999999999999"])
def test_a_card_of_an_id_no_model_has_is_the_friendly_404(client, pk) -> None:
    """Ids past PostgreSQL's bigint included: they are not looked up (compared as numerics, they would be
    compared with every model's id)."""
    ModelFactory(name="Aurora Landscapes")
    for url in (f"/models/{pk}/", f"/models/{pk}/aurora-landscapes/"):
        response = client.get(url)
        assert response.status_code == 404 and "Aurora" not in response.content.decode()


def test_card_shows_versions_files_and_images(client) -> None:
    version = ModelVersionFactory(name="v2.0", base_model="SDXL 1.0", trained_words=["wtrclr"])
    file = ModelFileFactory(version=version, name="aurora.safetensors", size_bytes=6_938_000_000)
    ImageFactory(version=version, prompt="a lighthouse at dusk")
    version.model.tags.add(TagFactory(name="landscape, scenery"))
    html = client.get(version.model.get_absolute_url()).content.decode()
    for text in [
        "v2.0",
        "SDXL 1.0",
        "wtrclr",
        "aurora.safetensors",
        "6.5\xa0GB",
        file.hash_autov2,
        "a lighthouse at dusk",
        "landscape, scenery",
    ]:
        assert text in html, text


def test_names_from_sources_are_escaped(client) -> None:
    ModelFactory(name='<script>alert("x")</script>')
    html = client.get("/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_wrong_slug_redirects_and_tag_creator_pages_filter(client) -> None:
    model = ModelFactory(name="Inkwash Style")
    response = client.get(f"/models/{model.pk}/wrong/")
    assert response.status_code == 301 and response["Location"] == model.get_absolute_url()
    model.tags.add(TagFactory(name="ink"))
    ModelFactory(name="Other Thing")
    html = client.get(reverse("catalog:tag", kwargs={"name": "ink"})).content.decode()
    assert "Inkwash Style" in html and "Other Thing" not in html
    html = client.get(
        reverse("catalog:creator", kwargs={"username": model.creator.username})
    ).content.decode()
    assert "Inkwash Style" in html and "Other Thing" not in html


def test_unknown_pages_are_a_friendly_404(client) -> None:
    response = client.get("/models/999999/none/")
    assert response.status_code == 404
    assert "There is no such page in this catalog" in response.content.decode()


def card_names(response) -> list[str]:
    import re

    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    results = html.split('class="results"', 1)[1]
    return re.findall(r'<h2><a href="/models/[^"]+">([^<]+)</a></h2>', results.split("Everything", 1)[-1])


@pytest.fixture
def shelf():
    from catalog.models import SourceRecord

    a = ModelFactory(name="Alpha", type="LORA", download_count=30, rating=4.0, favorite_count=1)
    ModelVersionFactory(model=a, base_model="SD 1.5")
    a.tags.add(TagFactory(name="anime"))
    b = ModelFactory(name="Beta", type="Checkpoint", download_count=20, rating=5.0, favorite_count=9)
    ModelVersionFactory(model=b, base_model="SDXL 1.0")
    SourceRecord.objects.create(model=b, provider="mirror", external_id="b")
    c = ModelFactory(name="Gamma", type="LORA", download_count=10, nsfw=True)
    ModelVersionFactory(model=c, base_model="SD 1.5")
    from catalog.models import Model
    from catalog.services import model_search_text_refresh

    for model in Model.objects.all():
        model_search_text_refresh(model)
    return a, b, c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Alpha", "Beta"]),  # NSFW hidden by default
        ("nsfw_view=show", ["Alpha", "Beta", "Gamma"]),
        ("nsfw_view=blur&type=LORA", ["Alpha", "Gamma"]),
        ("type=Checkpoint", ["Beta"]),
        ("base_model=SD+1.5", ["Alpha"]),
        ("tag=anime", ["Alpha"]),
        ("exclude_tag=anime", ["Beta"]),
        ("provider=mirror", ["Beta"]),
        ("sort=rating", ["Beta", "Alpha"]),
        ("sort=favorites", ["Beta", "Alpha"]),
        ("sort=name", ["Alpha", "Beta"]),
        ("query=beta", ["Beta"]),
        ("query=SDXL", ["Beta"]),
    ],
)
def test_list_filters_and_sorts(client, shelf, query, expected) -> None:
    assert card_names(client.get(f"/?{query}")) == expected


def test_list_facet_counts_and_bad_filters(client, shelf) -> None:
    html = client.get("/").content.decode()
    assert 'value="LORA" data-autosubmit-check> LORA <span class="n">1</span>' in html.replace(" checked", "")
    bad = client.get("/?sort=sideways")
    assert bad.status_code == 400
    assert "sort: Select a valid choice" in bad.content.decode()
    assert '<option value="newest">Newest</option>' in bad.content.decode()  # the sorts to choose from
    assert client.get("/?cursor=not-a-cursor").status_code == 400


def _cursor(value, pk: int = 5) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "sort, value",
    [
        ("downloads", "abc"),
        ("downloads", [1]),
        ("downloads", 10**30),  # beyond any count a model holds
        ("rating", {"x": 1}),
        ("newest", "not a date"),
        ("newest", 1.5),
    ],
)
def test_a_forged_cursor_of_the_wrong_type_is_an_error_naming_it(client, shelf, sort, value) -> None:
    """A cursor decodes to a position whose value is not of the sort's type: an error that names the cursor (a 400
    on the page and in the Civitai API, DRF's 404 "Invalid cursor" in the API), not a server error."""
    cursor = _cursor(value)
    page = client.get(f"/?sort={sort}&cursor={cursor}")
    assert page.status_code == 400
    html = page.content.decode()
    assert "That page link is not valid any more." in html
    assert f'<option value="{sort}" selected>' in html  # the form keeps its sorts to go on from
    api = client.get(f"/api/models/?sort={sort}&cursor={cursor}")
    assert (api.status_code, api.json()) == (404, {"detail": "Invalid cursor"})  # DRF's answer
    civitai_sort = {"downloads": "Most Downloaded", "rating": "Highest Rated", "newest": "Newest"}[sort]
    civitai = client.get("/api/v1/models", {"sort": civitai_sort, "cursor": cursor})
    assert civitai.status_code == 400
    assert "cursor: not a cursor this API gave out" in civitai.content.decode()


def test_a_cursor_of_the_right_type_from_elsewhere_pages_on(client, shelf) -> None:
    """A position the catalog did not give out, but of the sort's type, is a place in the order like any other."""
    response = client.get(f"/?sort=downloads&cursor={_cursor(10**9)}")
    assert response.status_code == 200


def test_list_pages_with_cursors(client) -> None:
    made = [ModelFactory(download_count=n).name for n in range(30)]
    first = client.get("/")
    names = card_names(first)
    assert len(names) == 24
    import re

    cursor = re.search(r'cursor=([^"&]+)" rel="next"', first.content.decode()).group(1)
    second = card_names(client.get(f"/?cursor={cursor}"))
    assert sorted(names + second) == sorted(made)


def test_featured_models_come_first_on_the_home_page(client, shelf) -> None:
    shelf[1].featured = True
    shelf[1].save()
    html = client.get("/").content.decode()
    assert html.index("Featured") < html.index("Beta") < html.index("Everything")


def test_a_model_featured_or_no_longer_featured_shows_so_on_the_next_home_page(client, shelf) -> None:
    from catalog.models import Model
    from catalog.services import models_set_featured

    assert "Featured" not in client.get("/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert "Featured" not in client.get("/").content.decode()
    # The catalog features nothing, and the page knows it without asking (the first request asked).
    assert not [q["sql"] for q in queries if re.search(r'WHERE .*"catalog_model"\."featured"', q["sql"])]

    models_set_featured(models=Model.objects.filter(name="Beta"), featured=True)
    html = client.get("/").content.decode()
    assert html.index("Featured") < html.index("Beta") < html.index("Everything")
    assert card_names(client.get("/?type=LORA")) == ["Alpha"]  # no featured LORA: no strip
    assert "Featured" not in client.get("/?type=LORA").content.decode()

    models_set_featured(models=Model.objects.filter(name="Beta"), featured=False)
    assert "Featured" not in client.get("/").content.decode()


def test_stats_and_base_model_pages(client, shelf) -> None:
    html = client.get(reverse("catalog:stats")).content.decode()
    assert "By base model" in html and "SD 1.5" in html


def _stat(html: str, name: str) -> str:
    return re.search(rf"<dt>{name}</dt><dd>([^<]*)</dd>", html).group(1)


def test_stats_are_counted_once_per_change_of_the_catalog(client, shelf) -> None:
    """The counts are kept until the catalog changes; after a change, while another request counts them afresh,
    the page shows the counts from before and is not an answer to keep. Ingest runs are for staff alone, and
    always current."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from catalog.models import IngestRun, Model
    from catalog.services import models_set_hidden

    models = _stat(client.get("/stats/").content.decode(), "Models")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/stats/").content.decode()
    assert _stat(html, "Models") == models and len(queries) == 1  # the catalog's version alone
    run = IngestRun.objects.create(
        kind="cli",
        sources=["https://civitai.com/models/1"],
        errors=[{"input": "/srv/x", "message": "secret"}],
    )
    anonymous = client.get("/stats/").content.decode()
    assert "Recent ingests" not in anonymous and f"#{run.pk}" not in anonymous
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("boss", "b@example.org", "pw"))
    assert f"#{run.pk}</a> cli" in staff.get("/stats/").content.decode()

    models_set_hidden(models=Model.objects.filter(pk=Model.objects.visible().first().pk), hidden=True)
    assert cache.add("catalog:stats:counting", 1, 30)  # as if another request were counting them now
    meanwhile = client.get("/stats/")
    assert _stat(meanwhile.content.decode(), "Models") == models
    assert "no-store" in meanwhile["Cache-Control"]
    cache.delete("catalog:stats:counting")
    after = client.get("/stats/")
    assert _stat(after.content.decode(), "Models") == str(int(models) - 1)
    assert "no-store" not in after.get("Cache-Control", "")
    assert card_names(client.get(reverse("catalog:base_model", args=["SDXL 1.0"]))) == ["Beta"]
    assert client.get(reverse("catalog:base_model", args=["SD 9"])).status_code == 404
    assert client.get(reverse("catalog:creator", args=["nobody-at-all"])).status_code == 404


def test_card_has_copy_buttons_and_viewer_data(client) -> None:
    version = ModelVersionFactory(trained_words=["wtrclr"])
    file = ModelFileFactory(version=version)
    ImageFactory(version=version, prompt="a <b>bold</b> prompt", seed="42")
    html = client.get(version.model.get_absolute_url()).content.decode()
    assert f'data-copy="{file.hash_sha256}"' in html
    assert f'data-copy="{file.hash_autov2}"' in html
    assert 'data-copy="wtrclr"' in html
    assert 'data-prompt="a &lt;b&gt;bold&lt;/b&gt; prompt"' in html
    assert 'id="viewer"' in html


@pytest.mark.parametrize(
    "url", ["/", "/stats/", "/no-such-page/", "/api/models/", "/api/v1/models", "/admin/login/"]
)
def test_content_security_policy_forbids_inline_scripts(client, url) -> None:
    policy = client.get(url)["Content-Security-Policy"]
    scripts = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert scripts.strip() == "script-src 'self'"
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_search_puts_an_exact_name_first(client) -> None:
    from catalog.models import Model
    from catalog.services import model_search_text_refresh

    ModelFactory(name="Aurora Extra Plus", download_count=1000)
    ModelFactory(name="Aurora", download_count=1)
    ModelFactory(name="Borealis", download_count=500, description="<p>like aurora</p>")
    for model in Model.objects.all():
        model_search_text_refresh(model)
    names = card_names(client.get("/?query=aurora"))
    assert names[0] == "Aurora"
    assert set(names) == {"Aurora", "Aurora Extra Plus", "Borealis"}  # the description is searched too


def test_search_finds_the_first_word_of_a_paragraph_and_a_word_split_by_inline_tags(client) -> None:
    """Paragraphs are separate words in the search text (Django's strip_tags glued "…https://a.com" and
    "SinkIn.ai" into one); a word set partly in bold is still one word."""
    from catalog.models import Model
    from catalog.services import model_search_text_refresh

    ModelFactory(
        name="Majic",
        description="<p>Run it at https://a.example.com</p><p>Sinkin hosts it</p><p><b>Lo</b>ra &amp; more</p>",
    )
    ModelFactory(name="Other", description="<p>nothing here: 1 &lt; 2</p>")
    for model in Model.objects.all():
        model_search_text_refresh(model)
    assert card_names(client.get("/?query=sinkin")) == ["Majic"]
    assert card_names(client.get("/?query=lora")) == ["Majic"]
    assert card_names(client.get("/?query=nothing")) == ["Other"]


def test_search_ranks_exact_name_then_names_then_the_rest_each_by_downloads_across_pages(
    client, settings
) -> None:
    """The search order, read page by page through cursors: nothing lost, nothing twice, on both databases."""
    from catalog import views
    from catalog.models import Model
    from catalog.services import model_search_text_refresh

    ModelFactory(name="Nebula", download_count=3)
    in_name = [ModelFactory(name=f"Nebula style {i}", download_count=100 + i) for i in range(7)]
    elsewhere = [
        ModelFactory(name=f"Galaxy {i}", download_count=1000 + i, description="<p>a nebula sky</p>")
        for i in range(6)
    ]
    ModelFactory(name="Unrelated", download_count=10_000, description="<p>stars</p>")
    for model in Model.objects.all():
        model_search_text_refresh(model)
    expected = (
        ["Nebula"]
        + [m.name for m in sorted(in_name, key=lambda m: -m.download_count)]
        + [m.name for m in sorted(elsewhere, key=lambda m: -m.download_count)]
    )
    seen, url = [], "/?query=nebula"
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 4
    try:
        while url and len(seen) <= len(expected):
            response = client.get(url)
            assert response.status_code == 200
            seen += card_names(response)
            cursor = response.context["page"].next_cursor
            url = f"/?query=nebula&cursor={cursor}" if cursor else None
    finally:
        views.PAGE_SIZE = original
    assert seen == expected

    for limit in (1, 2, 3, 5, 8, 14, 15):  # first pages end in each tier, and past it
        api_seen, url = [], f"/api/models/?query=nebula&limit={limit}"
        while url and len(api_seen) <= len(expected):  # a page that came again ends the walk, not the test
            body = client.get(url).json()
            api_seen += [m["name"] for m in body["results"]]
            url = body["next"]
        assert api_seen == expected, limit
