"""Django's template engine (TEMPLATES' BACKEND), letting go of what a page was rendered from once it is rendered.

A rendered template's context holds itself: each of its dicts keeps the context it is in (ContextDict.context),
and the context keeps its dicts. So everything a page is rendered from (a list's models with their creators, the
FilterSet, the facet counts) outlived the request until Python's garbage collector found the cycle: on the
search page 270 of the 720 objects a request left for the collector, which then walked them in the middle of
later requests. Emptying the context's dicts once the page is rendered breaks the cycle, and reference counting
frees them at once. Nothing reads a context after its template is rendered (the test client keeps copies).
"""

from __future__ import annotations

from django.template import TemplateDoesNotExist
from django.template.backends import django as backend
from django.template.context import make_context


class DjangoTemplates(backend.DjangoTemplates):
    def from_string(self, template_code):
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            backend.reraise(exc, self)


class Template(backend.Template):
    def render(self, context=None, request=None):
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(context)
        except TemplateDoesNotExist as exc:
            backend.reraise(exc, self.backend)
        finally:
            context.dicts.clear()
            context.render_context.dicts.clear()
