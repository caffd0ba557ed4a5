"""Password guessing: django-axes counts failed logins per account *and* client address together, so
guessing one account's password locks that account from that address only. A BCP's tablets share one NAT
address, and one inspector's typos, or an attacker's guesses, must never lock their colleagues out."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str | None:
    """The client's address as the rate limits see it: REMOTE_ADDR, or the address the outermost of the
    `TRUSTED_PROXIES` proxies saw (DRF's `NUM_PROXIES` rule); never what a client writes in X-Forwarded-For."""
    return BaseThrottle().get_ident(request)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """A 429 saying why and for how long: JSON for the API's token endpoint, text for the login page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed logins for this account from your address: try again in %(minutes)s minutes.") % {
        "minutes": minutes
    }
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
