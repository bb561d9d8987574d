"""Template filters of the catalog's pages."""

import functools
import html
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.files.storage import default_storage
from django.template.defaultfilters import date, filesizeformat, floatformat
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from catalog.sanitize import sanitize_html

register = template.Library()


@register.filter
def sanitized(html: str) -> str:
    """HTML from a source or an admin, sanitized again on the way out (nh3 keeps only safe markup)."""
    return mark_safe(sanitize_html(html or ""))


# A card shows every version's download table and image grid: a model with 20+ versions has hundreds of rows and
# figures. They are rendered here rather than by the template language, whose variable lookups and escaping took
# most of such a card's time; the HTML is the same. Every value is escaped with html.escape (what Django's escape
# does, without its lazy-string wrapper).


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))


def _count(value) -> str:
    """A count as the intcomma filter writes it here (English, no translation: "1,234,567"), in a fifteenth of
    its time for a whole number (a list page writes two on each card); anything else goes to intcomma."""
    return f"{value:,}" if type(value) is int else intcomma(value)


_HUNDREDTH = Decimal("0.01")


def _two_places(value) -> str:
    """A number as floatformat:2 writes it here: its shortest decimal form rounded half up to two places
    ("4.68" for 4.675), in a tenth of its time (a card shows a rating); other values (not a number, an
    extreme one) go to floatformat."""
    if type(value) in (float, int) and (1e-6 < abs(value) < 1e15 or value == 0):
        rounded = Decimal(repr(value)).quantize(_HUNDREDTH, ROUND_HALF_UP)
        return str(rounded if rounded else abs(rounded))  # "0.00", never "-0.00"
    return floatformat(value, 2)


def _media_url(name: str) -> str:
    """The URL of a file the catalog keeps (a FileField's value), as FieldFile.url gives it."""
    return default_storage.url(name)


def remote_thumbnail(url: str) -> str | None:
    """The source's own small copy of an image not mirrored yet, or None: only on REMOTE_THUMBNAIL_HOSTS (the
    Content-Security-Policy allows exactly those), and only while REMOTE_THUMBNAILS is on. A Civitai image URL
    is /{account}/{uuid}/{options}/{name}: the options segment asks its edge for a size (FORMATS.md §1.6)."""
    if not settings.REMOTE_THUMBNAILS:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in settings.REMOTE_THUMBNAIL_HOSTS:
        return None
    segments = parts.path.split("/")
    if len(segments) == 5 and "=" in segments[3]:
        segments[3] = "width=450"
    elif len(segments) == 4:
        segments.insert(3, "width=450")
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), parts.query, ""))


def _picture(image: dict, alt: str, placeholder: str) -> str:
    """An image as a page shows it: the mirrored thumbnail, else the source's own (remote_thumbnail), else its
    blurhash under `placeholder`."""
    width, height = image.get("width"), image.get("height")
    size = f' width="{width:d}" height="{height:d}"' if width and height else ""
    if image["thumbnail"]:
        return f'<img src="{_e(_media_url(image["thumbnail"]))}" alt="{alt}" loading="lazy"{size}>'
    blur = (
        f'<canvas class="blurhash" data-blurhash="{_e(image["blurhash"])}" width="32" height="32"></canvas>'
        if image["blurhash"]
        else ""
    )
    remote = remote_thumbnail(image["url"])
    if remote:  # over its placeholder, which shows if the source does not answer (static/js drops the image)
        picture = (
            f'<img class="remote" src="{_e(remote)}" alt="{alt}" loading="lazy" referrerpolicy="no-referrer">'
        )
        return f'<span class="placeholder">{blur}{placeholder}{picture}</span>'
    return f'<span class="placeholder">{blur}{placeholder}</span>'


def _image_figure(image: dict, number: int, version_name: str) -> str:
    full = _e(_media_url(image["original"]) if image["original"] else image["url"])
    alt = _e(f"Sample image {number} of {version_name}")
    picture = _picture(image, alt, "<span>Image at the source ↗</span>")
    prompt = image["prompt"]
    if len(prompt) > 120:  # as the truncatechars filter does; ASCII has no combining characters to count
        prompt = prompt[:119] + "…" if prompt.isascii() else Truncator(prompt).chars(120)
    caption = f"<figcaption>{_e(prompt)}</figcaption>" if prompt else ""
    model = image["model_name"] + (f" ({image['model_hash']})" if image["model_hash"] else "")
    return (
        f'<figure data-image class="{"nsfw" if image["nsfw_level"] >= 4 else ""}" data-full="{full}" '
        f'data-source="{_e(image["url"])}" data-alt="{alt}" data-prompt="{_e(image["prompt"])}" '
        f'data-negative="{_e(image["negative_prompt"])}" data-sampler="{_e(image["sampler"])}" '
        f'data-steps="{_e(image["steps"])}" data-cfg="{_e(image["cfg_scale"])}" data-seed="{_e(image["seed"])}" '
        f'data-size="{_e(image["size"])}" data-model="{_e(model)}"><a href="{full}" rel="noopener nofollow">'
        f"{picture}</a>{caption}</figure>"
    )


IMAGES_SHOWN = 12  # a version's images on its card until "Show all" is asked


@register.simple_tag
def sample_images(version: dict, show_all: bool = False) -> str:
    """A version's image grid (a row of selectors.version_rows), its first IMAGES_SHOWN unless `show_all`, with a
    link to all of them: each figure carries its generation data for the viewer (static/js)."""
    images = version["images"]
    if not images:
        return ""
    name = version["name"]
    shown = images if show_all else images[:IMAGES_SHOWN]
    figures = "\n".join(_image_figure(image, n, name) for n, image in enumerate(shown, 1))
    more = ""
    if len(shown) < len(images):
        more = (
            f'<p class="more-images"><a href="?images=all#version-{version["id"]:d}">'
            f"Show all {len(images):,} images</a></p>"
        )
    return mark_safe(f'<div class="images">{figures}</div>{more}')


def _copy_button(value: str, label: str) -> str:
    return (
        f'<button type="button" class="copy" data-copy="{_e(value)}" aria-label="{_e(label)}">Copy</button>'
    )


def _file_row(file: dict) -> str:
    name = _e(file["name"])
    sha256, autov2 = file["hash_sha256"], file["hash_autov2"]
    sha256_cell = (
        f'<code title="{_e(sha256)}">{_e(sha256[:12])}…</code> '
        + _copy_button(sha256, f"Copy SHA256 of {file['name']}")
        if sha256
        else "—"
    )
    autov2_cell = (
        f"<code>{_e(autov2)}</code> " + _copy_button(autov2, f"Copy AutoV2 of {file['name']}")
        if autov2
        else "—"
    )
    scans = " ".join(
        f'<span class="scan scan-{_e(result.lower())}">{label}: {_e(result)}</span>'
        for label, result in (("Pickle", file["pickle_scan_result"]), ("Virus", file["virus_scan_result"]))
        if result
    )
    size_type = f" {_e(file['size_type'])}" if file["size_type"] else ""
    download = (
        f'<a class="button" href="{_e(file["download_url"])}" rel="noopener nofollow">Download</a>'
        if file["download_url"]
        else ""
    )
    primary, badge = (
        (' class="primary"', ' <span class="badge">primary</span>') if file["is_primary"] else ("", "")
    )
    size = file["size_bytes"]
    return (
        f'<tr{primary}><th scope="row">{name}{badge}</th>'
        f"<td>{_e(file['kind'] or '—')}</td><td>{_e(file['format'] or '—')}</td>"
        f"<td>{_e(file['precision'])}{size_type}</td>"
        f"<td>{_e(filesizeformat(size)) if size is not None else '—'}</td>"
        f'<td class="hash">{sha256_cell}</td><td class="hash">{autov2_cell}</td><td class="scans">{scans}</td>'
        f"<td>{download}</td></tr>"
    )


@register.simple_tag
def file_rows(version: dict) -> str:
    """The rows of a version's download table (a row of selectors.version_rows)."""
    return mark_safe("\n".join(_file_row(file) for file in version["files"]))


@functools.lru_cache(maxsize=512)
def _base_model_url(script_prefix: str, name: str) -> str:
    """A base model's page, reversed once per name (and script prefix, which reverse() reads itself)."""
    return reverse("catalog:base_model", args=[name])


def _day(value) -> str:
    """A timestamp as the date filter writes it with "Y-m-d", in the current time zone."""
    return date(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d")


_DOWNLOADS_HEAD = (
    '<thead><tr><th scope="col">File</th><th scope="col">Kind</th><th scope="col">Format</th>'
    '<th scope="col">Precision</th><th scope="col">Size</th><th scope="col">SHA256</th><th scope="col">AutoV2</th>'
    '<th scope="col">Scans</th><th scope="col"><span class="visually-hidden">Download</span></th></tr></thead>'
)


@register.simple_tag
def version_section(version: dict, show_all_images: bool = False) -> str:
    """A version on its model's card (a row of selectors.version_rows): name, base model, dates and counts,
    trigger words with copy buttons, the download table and the image grid. A model with 20+ versions spent
    most of its card's time in the template language's loop over them."""
    pk, name = version["id"], version["name"]
    meta = ""
    if version["base_model"]:
        url = _base_model_url(get_script_prefix(), version["base_model"])
        meta = f'<a class="badge badge-base" href="{_e(url)}">{_e(version["base_model"])}</a>'
    meta += "\n      " + (f"Published {_e(_day(version['published_at']))}" if version["published_at"] else "")
    meta += "\n      " + (
        f"· updated {_e(_day(version['source_updated_at']))}" if version["source_updated_at"] else ""
    )
    meta += f"\n      · {_e(_count(version['download_count']))} downloads\n      "
    if version["rating_count"]:
        meta += f"· rated {_e(_two_places(version['rating']))} by {_e(_count(version['rating_count']))}"
    meta += "\n      "
    if version["early_access_days"]:
        meta += f"· early access {_e(version['early_access_days'])} days"
    trained = ""
    if version["trained_words"]:
        chips = "".join(
            f'<span class="chip"><code>{_e(word)}</code> <button type="button" class="copy" data-copy="{_e(word)}" '
            f'aria-label="Copy trigger word {_e(word)}">Copy</button></span> '
            for word in version["trained_words"]
        )
        trained = f'<p class="trained">Trigger words:\n      {chips}</p>'
    downloads = ""
    if version["files"]:
        downloads = (
            f'\n    <div class="table-wrap">\n    <table class="downloads">\n      <caption class="visually-hidden">'
            f"Files of {_e(name)}</caption>\n      {_DOWNLOADS_HEAD}\n      <tbody>{file_rows(version)}</tbody>\n"
            "    </table>\n    </div>"
        )
    about = (
        f'<div class="version-description">{sanitize_html(version["description"])}</div>'
        if version["description"]
        else ""
    )
    return mark_safe(
        f'\n  <section class="version" id="version-{pk}" aria-labelledby="version-{pk}-name">\n'
        f'    <h2 id="version-{pk}-name">{_e(name or "(unnamed version)")}</h2>\n'
        f'    <p class="meta">{meta}</p>\n    {about}\n    {trained}\n    {downloads}\n'
        f"    {sample_images(version, show_all_images)}\n  </section>\n  "
    )


@register.simple_tag
def facet_options(
    name: str, counts: list[tuple[str, int]], selected: list[str], kind: str = "checkbox"
) -> str:
    """A facet's options: an input per value, checked when the list is filtered by it, with its count. (A list
    page shows some sixty.)"""
    chosen = set(selected)
    return mark_safe(
        "".join(
            f'<label><input type="{kind}" name="{name}" value="{_e(value)}"{" checked" if value in chosen else ""}'
            f' data-autosubmit-check> {_e(value)} <span class="n">{_e(_count(n))}</span></label>'
            for value, n in counts
        )
    )


@register.simple_tag
def model_card(model) -> str:
    """A model as a card in a list (with its card_version: selectors.model_cards): cover, name, type and base
    model, creator, counts. (The list shows dozens.)"""
    version = model.card_version
    cover = version["cover"] if version else None
    url = _e(model.get_absolute_url())
    nsfw = model.nsfw
    if cover is not None:
        picture = _picture({**cover, "width": None, "height": None}, "", _e(model.type[:1]))
    else:
        picture = f'<span class="placeholder">{_e(model.type[:1])}</span>'
    badges = f'<span class="badge">{_e(model.type)}</span>'
    if version is not None and version["base_model"]:
        badges += f' <span class="badge badge-base">{_e(version["base_model"])}</span>'
    if model.availability != "active":
        badges += f' <span class="badge badge-warn">{_e(model.get_availability_display())}</span>'
    creator = (
        f'<p class="meta">by <a href="{_e(model.creator.get_absolute_url())}">{_e(model.creator.username)}</a></p>'
        if model.creator
        else ""
    )
    rating = (
        f'<span title="Rating"><span aria-hidden="true">★</span> {_e(_two_places(model.rating))}'
        '<span class="visually-hidden"> rating</span></span>'
        if model.rating_count
        else ""
    )
    nsfw_badge = '<span class="badge badge-nsfw">NSFW</span>' if nsfw else ""
    # HuggingFace counts the last 30 days' downloads, Civitai all of them: the card says which.
    if model.downloads_last_30_days:
        downloads, last_30 = (
            "Downloads in the last 30 days (Hugging Face)",
            '<span aria-hidden="true"> /30d</span>',
        )
    else:
        downloads, last_30 = "Downloads, all time", ""
    return mark_safe(
        f'<article class="card{" nsfw" if nsfw else ""}">'
        f'<a href="{url}" class="cover" tabindex="-1" aria-hidden="true">{picture}{nsfw_badge}</a>'
        f'<div class="card-body"><h2><a href="{url}">{_e(model.name)}</a></h2><p class="meta">{badges}</p>{creator}'
        f'<p class="stats"><span title="{downloads}"><span aria-hidden="true">⬇</span> {_e(_count(model.download_count))}'
        f'<span class="visually-hidden"> {downloads.lower()}</span>{last_30}</span> '
        f'<span title="Favorites"><span aria-hidden="true">♥</span> {_e(_count(model.favorite_count))}'
        f'<span class="visually-hidden"> favorites</span></span> {rating}</p></div></article>'
    )
