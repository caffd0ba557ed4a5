"""The exchange with TRACES NT (docs/decisions/0016-traces-exchange.md): what TRACES must hear of a CHED, as an
outbox row carrying the CHED's SPS XML, written in the transaction of the change and sent after commit through
the transport `PIF_TRACES_TRANSPORT` names (`inspection.traces`), like the emails and webhook posts
(`services/deliveries.py`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .notifications import OutboxRow


class TracesEvent(models.TextChoices):
    SUBMITTED = "submitted", _("CHED submitted")
    AMENDED = "amended", _("Part I amended")
    DECIDED = "decided", _("Decision taken")
    REVOKED = "recalled", _("Decision revoked (recall)")
    REPLACED = "replaced", _("CHED replaced")
    SPLIT = "split", _("Consignment split")


class TracesExchange(OutboxRow):
    """One message owed to TRACES NT: the CHED's SPS XML as it stood when `kind` happened. Pending while
    `sent_at` is empty; `traces_reference` is TRACES NT's CHED number as its answer gave it."""

    consignment = models.ForeignKey("inspection.Consignment", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=TracesEvent.choices)
    xml = models.TextField()
    traces_reference = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="traces_pending")]

    def __str__(self):
        return f"{self.kind} → TRACES NT"


class TracesDoubleMessage(models.Model):
    """What the local double of TRACES NT (`inspection.traces.LocalTracesDouble`) received, and the CHED number
    it answered: the record a test or a demo reads, in place of TRACES NT's own."""

    exchange_id = models.PositiveBigIntegerField(unique=True)  # a repeated send is received once
    local_reference = models.CharField(max_length=30, db_index=True)
    kind = models.CharField(max_length=20)
    xml = models.TextField()
    traces_reference = models.CharField(max_length=30)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.local_reference} ({self.kind}) → {self.traces_reference}"
