"""Template context every page needs."""

from django.http import HttpRequest

NSFW_VIEWS = ("hide", "blur", "show")


def nsfw_view(request: HttpRequest) -> str:
    """How to show NSFW models and images: ?nsfw_view= wins and is remembered; lists hide them by default."""
    chosen = request.GET.get("nsfw_view", "")
    if chosen in NSFW_VIEWS:
        if hasattr(request, "session") and request.session.get("nsfw_view") != chosen:
            request.session["nsfw_view"] = chosen
        return chosen
    remembered = request.session.get("nsfw_view", "") if hasattr(request, "session") else ""
    return remembered if remembered in NSFW_VIEWS else "hide"


def catalog(request: HttpRequest) -> dict:
    return {"nsfw_view": nsfw_view(request), "nsfw_views": NSFW_VIEWS}
