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
