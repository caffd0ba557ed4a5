from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from inspection.audit_chain import canonical_json


class CanonicalJSONField(models.JSONField):
    """A JSONField that SQLite stores in the audit chain's canonical text (PostgreSQL's jsonb normalises by
    itself), so that the verifier can hash the stored text as it is."""

    def get_db_prep_save(self, value, connection):
        if connection.vendor == "sqlite" and value is not None and not hasattr(value, "as_sql"):
            return canonical_json(value)
        return super().get_db_prep_save(value, connection)


class AuditAction(models.TextChoices):
    """What an audit event records. The value is stored, and hashed into the event (`audit_chain`): it never
    changes once written; the label is what people read (the trail, the audit search, the importer's
    timeline)."""

    # the pre-notification
    CONSIGNMENT_CREATED = "consignment.created", _("Pre-notification created")
    CONSIGNMENT_EPHYTO_IMPORTED = "consignment.ephyto_imported", _("ePhyto certificate imported")
    CONSIGNMENT_SPS_IMPORTED = "consignment.sps_imported", _("CHED imported from its SPS XML")
    CONSIGNMENT_CLONED = "consignment.cloned", _("Pre-notification copied")
    CONSIGNMENT_DRAFT_UPDATED = "consignment.draft_updated", _("Draft updated")
    DOCUMENT_UPLOADED = "document.uploaded", _("Document added")
    DOCUMENT_REMOVED = "document.removed", _("Document removed")
    CONSIGNMENT_SUBMITTED = "consignment.submitted", _("Pre-notification submitted")
    CONSIGNMENT_CANCELLED = "consignment.cancelled", _("Pre-notification cancelled")
    CONSIGNMENT_AMENDED = "consignment.amended", _("Part I amended")
    ARRIVAL_MOVED = "arrival.moved", _("Expected arrival moved by the importer")
    CONSIGNMENT_REPLACED = "consignment.replaced", _("Replaced by a new CHED")
    CONSIGNMENT_REPLACEMENT = "consignment.replacement", _("Replacement CHED submitted")
    # the checks
    CHECKS_PLANNED = "checks.planned", _("Checks planned")
    TRACES_REFERENCE_RECORDED = "traces_reference.recorded", _("TRACES NT number recorded")
    ARRIVAL_CONFIRMED = "arrival.confirmed", _("Arrival time confirmed")
    CONSIGNMENT_ARRIVED = "consignment.arrived", _("Goods arrived at the post")
    DOCUMENTARY_CHECK_RECORDED = "documentary_check.recorded", _("Documentary check")
    IDENTITY_CHECK_RECORDED = "identity_check.recorded", _("Identity check")
    PHYSICAL_CHECK_RECORDED = "physical_check.recorded", _("Physical check")
    SAMPLE_WAIVED = "sample.waived", _("Sample waived")
    # the laboratory
    LAB_RESULT_RECORDED = "lab_result.recorded", _("Laboratory result")
    LAB_RESULT_LATE = "lab_result.late", _("Laboratory result late")
    # the decision and after
    CONSIGNMENT_SPLIT = "consignment.split", _("Consignment split")
    CONSIGNMENT_SPLIT_PART = "consignment.split_part", _("Part of a split consignment")
    DECISION_RECORDED = "decision.recorded", _("Decision")
    DECISION_COUNTERSIGNED = "decision.countersigned", _("Refusal countersigned")
    DECISION_SENT_BACK = "decision.sent_back", _("Refusal sent back")
    CONSIGNMENT_RECALLED = "consignment.recalled", _("Recall")
    CERTIFICATE_ISSUED = "certificate.issued", _("Certificate issued")
    CERTIFICATE_REPLACED = "certificate.replaced", _("Certificate replaced")
    CERTIFICATE_REVOKED = "certificate.revoked", _("Certificate revoked")
    FOLLOW_UP_REMINDED = "follow_up.reminded", _("Follow-up reminder sent")
    FOLLOW_UP_RECORDED = "follow_up.recorded", _("Follow-up recorded")
    # intensified controls (Regulation (EU) 2017/625, art. 65; Implementing Regulation (EU) 2019/1873)
    INTENSIFIED_CONTROL_OPENED = "intensified_control.opened", _("Intensified controls opened")
    INTENSIFIED_CONTROL_COUNTED = "intensified_control.counted", _("Favourable result under intensified controls")
    INTENSIFIED_CONTROL_RESET = "intensified_control.reset", _("Intensified controls: count set back to zero")
    INTENSIFIED_CONTROL_ENDED = "intensified_control.ended", _("Intensified controls ended")
    INTENSIFIED_CONTROL_WITHDRAWN = "intensified_control.withdrawn", _("Intensified controls withdrawn")
    # supervision
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged", _("Escalation handled")
    TASK_REASSIGNED = "task.reassigned", _("Task reassigned")
    TASK_UNASSIGNED = "task.unassigned", _("Task unassigned")
    JOB_RETRIED = "job.retried", _("Failed job retried")
    SIMULATION_REQUESTED = "simulation.requested", _("Capacity simulation requested")
    DELIVERY_RETRIED = "delivery.retried", _("Failed delivery sent again")
    # an operator's settings
    NOTIFICATIONS_CHOSEN = "notifications.chosen", _("Email notifications chosen")
    WEBHOOK_CONFIGURED = "webhook.configured", _("Webhook configured")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    # exports (ISPM 12 phytosanitary certificates)
    EXPORT_CREATED = "export.created", _("Export application created")
    EXPORT_DRAFT_UPDATED = "export.draft_updated", _("Export application updated")
    EXPORT_SUBMITTED = "export.submitted", _("Export application submitted")
    EXPORT_CHECKED = "export.checked", _("Export consignment checked")
    EXPORT_SAMPLED = "export.sampled", _("Export consignment sampled")
    EXPORT_REFUSED = "export.refused", _("Phytosanitary certificate refused")
    EXPORT_ISSUE_DECIDED = "export.issue_decided", _("Issue of the phytosanitary certificate decided")
    PHYTO_ISSUED = "phyto.issued", _("Phytosanitary certificate issued")
    PHYTO_REPLACED = "phyto.replaced", _("Phytosanitary certificate replaced")
    PHYTO_WITHDRAWN = "phyto.withdrawn", _("Phytosanitary certificate withdrawn")
    # the customs system
    CUSTOMS_WEBHOOK_CONFIGURED = "customs_webhook.configured", _("Customs webhook configured")

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of a stored action; the value itself for one the code no longer writes."""
        try:
            return str(cls(value).label)
        except ValueError:
            return value


class AuditEvent(models.Model):
    """One step of the decision trail: who did what, when, in which role, with which data.
    Written only by `inspection.audit.audit_record`, inside the transaction of the change it records.
    Append-only and hash-chained: `seq` is its place in the chain, `prev_hash` the hash of the event before,
    `event_hash` the sha256 of its canonical content (`inspection.audit_chain`), `mac` its seal with the audit
    key (which is not in the database: docs/decisions/0010-keyed-audit-chain.md). The database refuses UPDATE
    and DELETE (triggers created by migration 0012)."""

    consignment = models.ForeignKey(
        "inspection.Consignment", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    role = models.CharField(_("role"), max_length=30)
    action = models.CharField(_("action"), max_length=60)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    data = CanonicalJSONField(_("data"), default=dict, encoder=DjangoJSONEncoder)
    seq = models.BigIntegerField(_("position in the chain"), unique=True)
    prev_hash = models.CharField(_("hash of the previous event"), max_length=64)
    event_hash = models.CharField(_("hash"), max_length=64)
    # sha256(seal + event_hash), the seal being the HMAC of the event's body with the audit key (audit_chain)
    mac = models.CharField(_("audit key seal"), max_length=64, default="")
    # The data's canonical text, stored at insert so that verifying reads text instead of converting jsonb
    # (PostgreSQL's jsonb output is most of a verification's time otherwise). Derived by the database: it
    # cannot be written apart from `data`.
    data_text = models.GeneratedField(
        expression=Cast("data", models.TextField()), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        indexes = [models.Index(fields=["consignment", "id"], name="audit_consignment_order")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}"


class AuditCheckpoint(models.Model):
    """The chain's head at a moment, recorded hourly by beat (`audit_checkpoint_record`), also written, signed,
    to the witness folder outside the database, and emailed daily to the supervisors: a checkpoint kept outside
    makes a deleted tail, or a rewrite, detectable. Append-only too."""

    seq = models.BigIntegerField(_("last event"))
    event_hash = models.CharField(_("hash of the last event"), max_length=64)
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit checkpoint")

    def __str__(self):
        return f"{self.seq}:{self.event_hash}"

    @property
    def published(self) -> str:
        """What `verify_audit --since` takes."""
        return f"{self.seq}:{self.event_hash}"
