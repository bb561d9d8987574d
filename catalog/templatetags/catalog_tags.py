"""Template filters of the catalog's pages."""

import html

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat, floatformat
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from ingest.sanitize import sanitize_html

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


def _media_url(name: str) -> str:
    """The URL of a file the catalog keeps (a FileField's value), as FieldFile.url gives it."""
    return default_storage.url(name)


def _image_figure(image: dict, number: int, version_name: str) -> str:
    full = _e(_media_url(image["original"]) if image["original"] else image["url"])
    alt = _e(f"Sample image {number} of {version_name}")
    width, height = image["width"], image["height"]
    if image["thumbnail"]:
        size = f' width="{width:d}" height="{height:d}"' if width and height else ""
        picture = f'<img src="{_e(_media_url(image["thumbnail"]))}" alt="{alt}" loading="lazy"{size}>'
    else:
        blur = (
            f'<canvas class="blurhash" data-blurhash="{_e(image["blurhash"])}" width="32" height="32"></canvas>'
            if image["blurhash"]
            else ""
        )
        picture = f'<span class="placeholder">{blur}<span>Image at the source ↗</span></span>'
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


@register.simple_tag
def sample_images(version: dict) -> str:
    """A version's image grid (a row of selectors.version_rows): each figure carries its generation data for the
    viewer (static/js)."""
    images = version["images"]
    if not images:
        return ""
    name = version["name"]
    figures = "\n".join(_image_figure(image, n, name) for n, image in enumerate(images, 1))
    return mark_safe(f'<div class="images">{figures}</div>')


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


@register.simple_tag
def model_card(model) -> str:
    """A model as a card in a list (with its card_version: selectors.model_cards): cover, name, type and base
    model, creator, counts. (The list shows dozens.)"""
    version = model.card_version
    cover = version["cover"] if version else None
    url = _e(model.get_absolute_url())
    nsfw = model.nsfw
    if cover is not None and cover["thumbnail"]:
        picture = f'<img src="{_e(_media_url(cover["thumbnail"]))}" alt="" loading="lazy">'
    else:
        picture = f'<span class="placeholder">{_e(model.type[:1])}</span>'
        if cover is not None and cover["blurhash"]:
            picture += f'<canvas class="blurhash" data-blurhash="{_e(cover["blurhash"])}" width="32" height="32"></canvas>'
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
        f'<span title="Rating"><span aria-hidden="true">★</span> {_e(floatformat(model.rating, 2))}'
        '<span class="visually-hidden"> rating</span></span>'
        if model.rating_count
        else ""
    )
    nsfw_badge = '<span class="badge badge-nsfw">NSFW</span>' if nsfw else ""
    return mark_safe(
        f'<article class="card{" nsfw" if nsfw else ""}">'
        f'<a href="{url}" class="cover" tabindex="-1" aria-hidden="true">{picture}{nsfw_badge}</a>'
        f'<div class="card-body"><h2><a href="{url}">{_e(model.name)}</a></h2><p class="meta">{badges}</p>{creator}'
        f'<p class="stats"><span title="Downloads"><span aria-hidden="true">⬇</span> {_e(intcomma(model.download_count))}'
        '<span class="visually-hidden"> downloads</span></span> '
        f'<span title="Favorites"><span aria-hidden="true">♥</span> {_e(intcomma(model.favorite_count))}'
        f'<span class="visually-hidden"> favorites</span></span> {rating}</p></div></article>'
    )
