"""Intensified official controls after an unfavourable result (Regulation (EU) 2017/625, art. 65; Implementing
Regulation (EU) 2019/1873, arts 3-8, for products of animal origin). Opened and counted by
`inspection.services.intensified`; read by `inspection.risk.check_rates` with the reinforced check rules, the
other source of a raised rate."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .consignments import Consignment

# Implementing Regulation (EU) 2019/1873, art. 6 as read (docs/regulation.md, section 2): intensified controls end
# after at least 30 consecutive satisfactory results. The figure of 10 in issue 14 was not found in the text.
FAVOURABLE_RESULTS_NEEDED = 30
FAVOURABLE_RESULTS_SOURCE = (
    "Implementing Regulation (EU) 2019/1873, art. 6: at least 30 consecutive satisfactory results"
)
LEGAL_REFERENCE = "2017/625 art. 65; 2019/1873"


class IntensifiedControl(models.Model):
    """Identity and physical checks on every consignment of a CHED type from an origin, of goods whose CN code
    starts with `cn_prefix` and, when Part I named one, from a consignor (Part I does not carry the establishment
    of origin): opened by an unfavourable result on `cause_consignment`, ended by `favourable_needed`
    consecutive favourable results (`favourable_seen` counts them; an unfavourable one sets it back to 0)."""

    class Cause(models.TextChoices):
        LAB_RESULT = "lab_result", _("Laboratory result not satisfactory")
        REFUSAL = "refusal", _("Refusal for a health reason")

    ched_type = models.ForeignKey("inspection.ChedType", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country of origin"), max_length=2)
    cn_prefix = models.CharField(_("CN code prefix"), max_length=10)
    consignor_name = models.CharField(_("consignor name"), max_length=200, blank=True)
    identity_rate = models.PositiveSmallIntegerField(_("identity check rate (%)"), default=100)
    physical_rate = models.PositiveSmallIntegerField(_("physical check rate (%)"), default=100)
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    hazard = models.CharField(_("hazard"), max_length=200)
    cause_consignment = models.ForeignKey(
        Consignment, on_delete=models.PROTECT, related_name="+", verbose_name=_("consignment that opened it")
    )
    legal_reference = models.CharField(_("legal reference"), max_length=200, default=LEGAL_REFERENCE)
    opened_at = models.DateTimeField(_("opened"))
    favourable_needed = models.PositiveSmallIntegerField(
        _("favourable results that end it"), default=FAVOURABLE_RESULTS_NEEDED, help_text=FAVOURABLE_RESULTS_SOURCE
    )
    favourable_seen = models.PositiveSmallIntegerField(_("consecutive favourable results"), default=0)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # a supervisor may end a control before its count is reached (`intensified_control_withdraw`)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(_("reason for the withdrawal"), blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("intensified control")
        constraints = [
            # one open control per CHED type x origin x commodity x consignor: opening is idempotent
            models.UniqueConstraint(
                fields=["ched_type", "country", "cn_prefix", "consignor_name"],
                condition=models.Q(ended_at__isnull=True),
                name="intensified_control_one_open",
            )
        ]

    def __str__(self):
        return f"{self.ched_type_id} {self.country} {self.cn_prefix}* {self.consignor_name}".rstrip()


class IntensifiedControlResult(models.Model):
    """A consignment counted by an intensified control, once: favourable (accepted after all its checks and
    results were satisfactory) or not (an unfavourable result that set the count back)."""

    control = models.ForeignKey(IntensifiedControl, on_delete=models.CASCADE, related_name="results")
    consignment = models.ForeignKey(Consignment, on_delete=models.PROTECT, related_name="+")
    favourable = models.BooleanField(_("favourable"))
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["control", "consignment"], name="intensified_result_once_per_consignment")
        ]

    def __str__(self):
        return f"{self.control}: {self.consignment} {'+' if self.favourable else '-'}"
