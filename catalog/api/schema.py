"""The OpenAPI schema's generator: drf-spectacular's, told which reads need no sign-in and which errors each
operation may answer."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions

# DRF's errors: {"detail": "..."} or {"field": ["message", ...]}; Civitai's: {"error": "..."}.
DRF_ERROR = {"type": "object", "additionalProperties": True}
CIVITAI_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
ERRORS = {
    "400": "A parameter or the body is not valid; the answer names it.",
    "401": "Authentication is needed (a private catalog, a write) or the token is not valid.",
    "403": "Signed in, but not allowed.",
    "404": "No such object, or a cursor this API never gave out.",
    "429": "Too many requests: try again after Retry-After seconds.",
}
WRITE_ERRORS = {
    "413": "The body is larger than API_MAX_BODY_BYTES.",
    "503": "The task queue is not reachable; try again shortly.",
}


class CatalogAutoSchema(AutoSchema):
    """Reads under a permission that lets anyone read (`public_reads`) need no authentication unless the catalog
    is private: the schema says so (an empty security requirement), as it does for DRF's AllowAny. Every
    operation documents the errors it may answer, in its API's shape."""

    def get_auth(self):
        auths = super().get_auth()
        public = any(getattr(p, "public_reads", False) for p in self.view.get_permissions())
        if (
            public
            and self.method in permissions.SAFE_METHODS
            and not settings.CATALOG_PRIVATE
            and {} not in auths
        ):
            auths.append({})
        return auths

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        shape = CIVITAI_ERROR if path.startswith("/api/v1/") else DRF_ERROR
        errors = ERRORS if method in permissions.SAFE_METHODS else {**ERRORS, **WRITE_ERRORS}
        responses = operation.setdefault("responses", {})
        for status, description in errors.items():
            responses.setdefault(
                status, {"description": description, "content": {"application/json": {"schema": shape}}}
            )
        return operation
