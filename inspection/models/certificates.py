"""Certificates issued by the post: the CHED (Parts I and II) and the refusal notice, as signed PDFs."""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .checks import Decision
from .consignments import Consignment
from .storage import private_storage


def certificate_verify_key() -> str:
    """A fresh verification code: 120 random bits, lower-case base32 (24 letters and digits, easy in a URL
    and a QR code). Printed on the certificate; `/verify/<number>/<key>/` shows the state only with it."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


class Certificate(models.Model):
    """One issued PDF. The file never changes once issued: its SHA-256 is stored here and in the audit trail,
    and `/verify/<number>/` compares an uploaded copy with it. A corrected decision issues a new certificate
    and marks the old one replaced; a supervisor may revoke one."""

    class Kind(models.TextChoices):
        CHED = "ched", _("CHED")
        REFUSAL = "refusal", _("Refusal notice")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REPLACED = "replaced", _("Replaced")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    consignment = models.ForeignKey(Consignment, on_delete=models.PROTECT, related_name="certificates")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="certificates")
    file = models.FileField(_("file"), storage=private_storage, upload_to="certificates/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Kept in clear, not hashed: the API, the portal and the emails print the verification address again
    # whenever asked. It guards against enumeration by strangers, not against a reader of the database.
    verify_key = models.CharField(_("verification code"), max_length=32, default=certificate_verify_key)
    size = models.PositiveIntegerField(_("size (bytes)"))
    signer = models.CharField(_("signed by"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALID)
    replaced_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("replaced by")
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(_("reason for revocation or replacement"), blank=True)

    class Meta:
        ordering = ["issued_at", "pk"]
        verbose_name = _("certificate")
        constraints = [
            # One valid certificate per decision and kind: a doubled job can't issue two.
            models.UniqueConstraint(
                fields=["decision", "kind"],
                condition=models.Q(status="valid"),
                name="uniq_valid_certificate_per_decision_kind",
            ),
        ]

    def __str__(self):
        return self.number
