"""A corpus of hostile strings, and a checker that finds anything in rendered HTML that would run."""

from __future__ import annotations

from html.parser import HTMLParser

MARK = "window.__xss=1"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f"<SCRIPT SRC=//evil.example/x.js></SCRIPT>{MARK}",
    f'"><script>{MARK}</script>',
    f"'><script>{MARK}</script>",
    f'<img src=x onerror="{MARK}">',
    f"<img src=x onerror={MARK}>",
    f'<img src="x" onerror="{MARK}"/>',
    f"<svg onload={MARK}>",
    f"<svg><script>{MARK}</script></svg>",
    f"<svg><animate onbegin={MARK} attributeName=x dur=1s>",
    f'<body onload="{MARK}">',
    f'<iframe src="javascript:{MARK}"></iframe>',
    f'<iframe srcdoc="<script>{MARK}</script>"></iframe>',
    f'<a href="javascript:{MARK}">click</a>',
    f'<a href="JaVaScRiPt:{MARK}">click</a>',
    f'<a href="&#106;avascript:{MARK}">click</a>',
    f'<a href="data:text/html,<script>{MARK}</script>">x</a>',
    f'<a href="vbscript:{MARK}">x</a>',
    f'<div style="background:url(javascript:{MARK})">x</div>',
    f'<input autofocus onfocus="{MARK}">',
    f'<details open ontoggle="{MARK}">',
    f'<video><source onerror="{MARK}"></video>',
    f'<audio src=x onerror="{MARK}">',
    f'<object data="javascript:{MARK}"></object>',
    f'<embed src="javascript:{MARK}">',
    f'<form action="javascript:{MARK}"><button>x</button></form>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{MARK}">',
    f'<noscript><p title="</noscript><img src=x onerror={MARK}>">',
    f"<textarea></textarea><script>{MARK}</script>",
    f"<title></title><script>{MARK}</script>",
    f"<style></style><script>{MARK}</script>",
    f"<!--><script>{MARK}</script>-->",
    f"<![CDATA[<script>{MARK}</script>]]>",
    f'<meta http-equiv="refresh" content="0;url=javascript:{MARK}">',
    f'<base href="javascript:{MARK}//">',
    f'<link rel=import href="data:text/html,<script>{MARK}</script>">',
    f'<marquee onstart="{MARK}">x</marquee>',
    f'<select onfocus="{MARK}" autofocus>',
    f'<keygen autofocus onfocus="{MARK}">',
    f'<img src="x` `<script>{MARK}</script>"` `>',
    f'" onmouseover="{MARK}" x="',
    f"' onmouseover='{MARK}' x='",
    f"`-{MARK}-`",
    "{{ 7|add:7 }} {% debug %} {% load static %}",
    "{{ request.META }}{% csrf_token %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    f"\u003cscript\u003e{MARK}\u003c/script\u003e",
    f"%3Cscript%3E{MARK}%3C/script%3E",
    f'<img src=x:alert(1) onerror=eval(src) alt="{MARK}">',
    f'<x onclick="{MARK}" style="display:block;width:100%;height:100%">click anywhere</x>',
    f"</script><script>{MARK}</script>",
    f"<scr<script>ipt>{MARK}</scr</script>ipt>",
]

EVENT_ATTRIBUTE = "on"
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


class Finder(HTMLParser):
    """Collects what in a page would run: script elements whose text carries the mark, event-handler attributes,
    and links or sources to script URLs. Only the page's own parsing counts: escaped text is plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            src = dict(attrs).get("src") or ""
            if src and not src.startswith("/static/"):
                self.found.append(f"<script src={src}>")
        for name, value in attrs:
            if name.lower().startswith(EVENT_ATTRIBUTE):
                self.found.append(f"<{tag} {name}=...>")
            if name.lower() in ("href", "src", "action", "data", "formaction", "srcdoc") and value:
                lowered = value.strip().lower().replace("\t", "").replace("\n", "")
                if lowered.startswith(DANGEROUS_SCHEMES) or name.lower() == "srcdoc":
                    self.found.append(f"<{tag} {name}={value[:40]}>")
        if tag in ("iframe", "object", "embed", "base", "meta", "link") and tag not in ("meta", "link"):
            self.found.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and "__xss" in data:
            self.found.append("a script carrying the mark")


def runnable(html: str) -> list[str]:
    finder = Finder()
    finder.feed(html)
    return finder.found
