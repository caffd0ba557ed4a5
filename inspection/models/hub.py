"""The IPPC ePhyto hub: the envelopes owed to it (`HubDelivery`, an outbox row like `WebhookDelivery`) and, for
tests and the demo, what the local hub double received (`HubDoubleEnvelope`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .notifications import OutboxRow


class HubStatus(models.TextChoices):
    """Where an envelope stands, from our side: waiting to leave, taken by the hub (its tracking info
    `PendingDelivery`), received by the importing NPPO (`Delivered`, `DeliveredWithWarnings`), or failed (the
    hub refused it, the importing NPPO could not read it, or every attempt failed)."""

    PENDING = "pending", _("Waiting to be sent to the hub")
    DELIVERED = "delivered", _("Delivered to the hub")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the importing country")
    FAILED = "failed", _("Failed")


class HubDelivery(OutboxRow):
    """One envelope owed to the IPPC ePhyto hub: the ePhyto XML of a certificate just issued, replaced or
    withdrawn, with its header (From/To NPPO, certificate type and status, number). Written in the transaction
    of the change, sent after commit by a Celery task (`inspection.services.hub`), swept again by beat, and
    given up after `PIF_DELIVERY_ATTEMPTS` attempts (an incident); once the hub took it, beat polls its tracking
    info until the importing country acknowledges it or it fails."""

    certificate = models.ForeignKey(
        "inspection.PhytosanitaryCertificate", on_delete=models.CASCADE, related_name="hub_deliveries"
    )
    kind = models.CharField(
        _("event"),
        max_length=10,
        choices=[("issued", _("Issued")), ("replaced", _("Replaced")), ("withdrawn", _("Withdrawn"))],
    )
    from_country = models.CharField(_("from (NPPO)"), max_length=2)
    to_country = models.CharField(_("to (NPPO)"), max_length=2)
    certificate_type = models.PositiveSmallIntegerField(_("certificate type"))
    certificate_status = models.PositiveSmallIntegerField(_("certificate status"))
    content = models.TextField(_("ePhyto XML"))
    status = models.CharField(_("hub status"), max_length=12, choices=HubStatus.choices, default=HubStatus.PENDING)
    hub_delivery_number = models.CharField(_("hub delivery number"), max_length=100, blank=True)
    hub_tracking = models.CharField(_("hub tracking info"), max_length=30, blank=True)
    hub_error = models.TextField(_("hub error"), blank=True)
    polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ePhyto hub delivery")
        verbose_name_plural = _("ePhyto hub deliveries")
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="hub_pending"),
            models.Index(fields=["polled_at"], condition=models.Q(status="delivered"), name="hub_to_poll"),
        ]

    def __str__(self):
        return f"{self.kind} {self.certificate_id} → {self.to_country}"


class HubDoubleEnvelope(models.Model):
    """An envelope the local hub double (`inspection.exchange.double`) accepted, shared by the web and the
    worker processes. Not used when the real hub is configured."""

    hub_delivery_number = models.CharField(max_length=64, unique=True)
    from_country = models.CharField(max_length=2)
    to_country = models.CharField(max_length=2)
    certificate_type = models.PositiveSmallIntegerField()
    certificate_status = models.PositiveSmallIntegerField()
    certificate_number = models.CharField(max_length=100)
    content = models.TextField()
    tracking = models.CharField(max_length=30, default="PendingDelivery")
    error_message = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.hub_delivery_number
