from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An email owed to a user about a consignment. Created with the change that causes it, sent by a
    Celery task after commit; `sent_at` makes the send idempotent and shows what is still pending."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Pre-notification received")
        DECIDED = "decided", _("Decision taken")
        RECALLED = "recalled", _("Consignment recalled")

    consignment = models.ForeignKey("inspection.Consignment", on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} → {self.recipient}"
