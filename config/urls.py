"""The catalog's URLs: pages, admin, and media when Django serves it."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve

from catalog import views as catalog_views

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", catalog_views.favicon),
    path("admin/", admin.site.urls),
    # Sign in and out (a private catalog sends every visitor here first): Django's own views, any active user.
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("ingest.urls")),
    path("api/", include("catalog.api.urls")),
    path("", include("catalog.urls")),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

admin.site.site_header = "Catalog administration"
admin.site.site_title = "Catalog admin"
admin.site.index_title = "Curate the catalog"

handler404 = "catalog.views.page_not_found"
handler500 = "catalog.views.server_error"
