"""How long the API keeps a write's first answer for replay under its `Idempotency-Key`."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from inspection.models import IdempotentRequest


def idempotent_requests_purge(*, now=None) -> int:
    """Delete the kept answers older than `PIF_IDEMPOTENCY_RETENTION_HOURS` (a client retries within minutes;
    the key may then be used again for a new write). Run daily by beat; returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.PIF_IDEMPOTENCY_RETENTION_HOURS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
