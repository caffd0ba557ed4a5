from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One step of the decision trail: who did what, when, in which role, with which data.
    Written only by `inspection.audit.audit_record`, inside the transaction of the change it records."""

    consignment = models.ForeignKey(
        "inspection.Consignment", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    role = models.CharField(_("role"), max_length=30)
    action = models.CharField(_("action"), max_length=60)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    data = models.JSONField(_("data"), default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        indexes = [models.Index(fields=["consignment", "id"], name="audit_consignment_order")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}"
