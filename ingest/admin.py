"""The ingest app's admin: ingest runs, the ingest form (URLs, ids and uploaded files), and re-sync on the
catalog's models."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from catalog.admin import URL_FIELDS
from catalog.admin import ModelAdmin as CatalogModelAdmin
from catalog.models import IngestRun, Model
from ingest.errors import IngestError
from ingest.pipeline import remote_source_check, uploads_save
from ingest.tasks import ingest_run_queue, models_resync_queue

# The catalog's model admin, with re-sync from the models' sources added. Django's admin autodiscovery imports
# each app's admin module in INSTALLED_APPS order, so the catalog's is registered by now.
admin.site.unregister(Model)


@admin.register(Model)
class ModelAdmin(CatalogModelAdmin):
    actions = [*CatalogModelAdmin.actions, "resync"]

    @admin.action(description="Re-sync selected models from their source")
    def resync(self, request, queryset):
        models = list(queryset)
        run = models_resync_queue(
            model_ids=[m.pk for m in models], requested_by=request.user, after_response=True
        )
        if run is None:
            self.message_user(
                request, "None of these models came from Civitai or HuggingFace.", messages.WARNING
            )
            return
        self.log_bulk(request, models, f"Re-sync asked (ingest run #{run.pk}).")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.message_user(
                request,
                f"Re-sync started as ingest run #{run.pk} in this process, after this page (no task queue is "
                "configured): its page shows how it went.",
            )
        else:
            self.message_user(request, f"Queued re-sync as ingest run #{run.pk}: a worker runs it.")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class IngestForm(forms.Form):
    """What an admin asks to ingest: sources typed one a line, and/or uploaded files."""

    sources = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        required=False,
        label="URLs and ids",
        help_text="One a line: https://civitai.com/models/1069, a version id, owner/repo on HuggingFace.",
    )
    files = MultipleFileField(required=False, label="Files")
    model_type = forms.CharField(
        required=False, label="Type for mirror pages", help_text="e.g. LORA (optional)"
    )

    def clean(self):
        data = super().clean()
        lines = [line.strip() for line in (data.get("sources") or "").splitlines() if line.strip()]
        if len(lines) > 1000:
            raise forms.ValidationError("At most 1,000 sources at once.")
        refused = []
        for line in lines:
            try:
                remote_source_check(line)
            except IngestError as exc:
                refused.append(f"{line[:200]}: {exc.message}")
        if refused:
            raise forms.ValidationError(refused)
        data["source_list"] = lines
        if not lines and not data.get("files"):
            raise forms.ValidationError("Give at least one URL, id or file.")
        return data


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = [
        "id", "kind", "status", "created_count", "updated_count", "unchanged_count", "failed_count", "queued_at",
        "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in IngestRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        custom = [
            path("ingest/", self.admin_site.admin_view(self.ingest_view), name="catalog_ingestrun_ingest"),
        ]
        return custom + super().get_urls()

    def ingest_view(self, request: HttpRequest):
        """The ingest form: queue an ingest run of typed sources and uploaded files."""
        if not request.user.has_perm("catalog.change_model"):
            raise PermissionDenied
        form = IngestForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            sources = form.cleaned_data["source_list"] + uploads_save(form.cleaned_data["files"])
            with transaction.atomic():
                run = ingest_run_queue(
                    kind="ingest",
                    sources=sources,
                    requested_by=request.user,
                    model_type=form.cleaned_data["model_type"],
                )
            self.message_user(request, f"Queued ingest run #{run.pk} for {len(sources)} source(s).")
            return redirect("admin:catalog_ingestrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Ingest models",
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/catalog/ingestrun/ingest_form.html", context)
