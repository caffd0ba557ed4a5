from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What an operator's users can be told about (each user chooses which, `Membership.notification_kinds`)."""

    SUBMITTED = "submitted", _("Pre-notification received")
    PHYSICAL_CHECK_SELECTED = "physical_check_selected", _("Selected for a physical check")
    SAMPLED = "sampled", _("Samples taken")
    DECIDED = "decided", _("Decision taken")
    CERTIFIED = "certified", _("Certificate issued")
    RECALLED = "recalled", _("Consignment recalled")
    SPLIT = "split", _("Consignment split into parts")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up deadline near")


def all_notification_kinds() -> list[str]:
    return list(NotificationKind.values)


class OutboxRow(models.Model):
    """The state of a row of the outbox (`inspection.services.deliveries`): pending while `sent_at` is empty,
    its attempts, when the sweeper may try again, the last failure."""

    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # when beat's sweeper may try again (after a failure; or when the sender holding it is taken for dead)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True


class Notification(OutboxRow):
    """An email owed to a user about a consignment. Created with the change that causes it, sent by a
    Celery task after commit, or by beat's sweeper (`inspection.services.deliveries`): the outbox. `sent_at`
    shows what is still pending; `attempts` reaching `PIF_DELIVERY_ATTEMPTS` makes it an incident."""

    Kind = NotificationKind

    consignment = models.ForeignKey("inspection.Consignment", on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="notification_pending")
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient}"


class WebhookDelivery(OutboxRow):
    """A signed POST owed to an operator's webhook URL, or to the customs system's (`subscription`); like
    `Notification`, created in the transaction of the change and delivered (once, retried with backoff) by a
    Celery task after commit. Exactly one of `operator` and `subscription` is set."""

    operator = models.ForeignKey(
        "inspection.Operator", on_delete=models.CASCADE, related_name="webhook_deliveries", null=True, blank=True
    )
    subscription = models.ForeignKey(
        "inspection.CustomsSubscription", on_delete=models.CASCADE, related_name="deliveries", null=True, blank=True
    )
    consignment = models.ForeignKey("inspection.Consignment", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    payload = models.JSONField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="webhook_pending")
        ]

    def __str__(self):
        return f"{self.kind} → {self.operator or self.subscription}"
