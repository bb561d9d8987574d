"""Middleware of the catalog."""

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpResponseBadRequest, JsonResponse


class CatalogLoginRequiredMiddleware(LoginRequiredMiddleware):
    """A private catalog: pages need a login. The API is left to DRF, which takes tokens as well as sessions
    and answers 401/403 in JSON instead of redirecting to a login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RejectNulBytesMiddleware:
    """A NUL byte in the path or a query parameter is refused with 400: no database text column can hold one,
    and no real client sends one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, values in
                                          request.GET.lists() for value in values):  # fmt: skip
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "NUL bytes are not allowed in URLs."}, status=400)
            return HttpResponseBadRequest("NUL bytes are not allowed in URLs.")
        return self.get_response(request)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
# Swagger UI's page starts itself with an inline script; only that page allows one.
CSP_API_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every response: scripts only from this site, never inline (the pages have
    none), images also from https sources (sample images at their source before they are mirrored)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path_info.startswith("/api/docs")
            response["Content-Security-Policy"] = CSP_API_DOCS if docs else CSP
        return response
