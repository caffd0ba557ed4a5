from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key` header: the same key and the same request
    get this answer again instead of a second write (a client retrying after a lost connection); the same key
    with another request is refused. Kept per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the method, path and body
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.user_id}: {self.key}"
