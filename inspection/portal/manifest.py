"""The web app manifest: the portal installs on a phone's home screen and opens on the consignment list."""

from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.vary import vary_on_headers


@cache_control(max_age=3600)
@vary_on_headers("Accept-Language", "Cookie")
def web_manifest(request):
    response = JsonResponse(
        {
            "name": _("PIF Martinique"),
            "short_name": "PIF",
            "description": _("Border control post of Martinique — veterinary and plant-health checks."),
            "lang": get_language(),
            "start_url": reverse("portal:consignment-list"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#f5f7fa",
            "theme_color": "#0b5d8a",
            "icons": [
                {"src": static("pif/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("pif/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Content-Type"] = "application/manifest+json"
    return response
