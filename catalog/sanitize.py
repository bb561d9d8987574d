"""Sanitizing HTML that sources send (model and version descriptions), with nh3."""

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}


# Built once: nh3.clean given the same settings rebuilds them on every call.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Keep links, headings, lists, emphasis, code, tables and images; drop scripts, handlers, iframes, styles.

    Links get rel="nofollow noopener noreferrer"; only http(s) and mailto URLs survive.
    """
    if not html:
        return ""
    return _CLEANER.clean(html).strip()
