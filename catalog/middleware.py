"""Middleware of the catalog."""

from urllib.parse import urlsplit

from django.conf import settings
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
            if request.path.startswith("/api/v1/"):  # Civitai's error shape
                return JsonResponse({"error": "NUL bytes are not allowed in URLs."}, status=400)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "NUL bytes are not allowed in URLs."}, status=400)
            return HttpResponseBadRequest("NUL bytes are not allowed in URLs.")
        return self.get_response(request)


def content_security_policy() -> str:
    """Scripts only from this site, never inline (the pages have none); images from this site, the media
    storage's host (S3) and, while REMOTE_THUMBNAILS is on, exactly the REMOTE_THUMBNAIL_HOSTS."""
    images = ["'self'", "data:", "blob:"]
    if settings.REMOTE_THUMBNAILS:
        images += [f"https://{host}" for host in settings.REMOTE_THUMBNAIL_HOSTS]
    media = urlsplit(settings.MEDIA_URL)
    if media.scheme and media.netloc:
        images.append(f"{media.scheme}://{media.netloc}")
    for name in ("AWS_S3_CUSTOM_DOMAIN", "AWS_S3_ENDPOINT_URL"):
        value = getattr(settings, name, None)
        if value:
            parts = urlsplit(value if "://" in value else f"https://{value}")
            images.append(f"{parts.scheme}://{parts.netloc}")
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src {' '.join(images)}; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every response (content_security_policy). Swagger UI's page starts itself
    with an inline script; only that page allows one."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()
        self.docs_policy = self.policy.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path_info.startswith("/api/docs")
            response["Content-Security-Policy"] = self.docs_policy if docs else self.policy
        return response
