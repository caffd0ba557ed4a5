"""Where goods go on to after the BCP's decision, under control: control points, onward transportation
facilities, establishments of destination and approved warehouses (reference data), and the receiving side's
confirmation that the goods arrived there (Part III). docs/regulation.md, section 12."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .consignments import Consignment
from .reference import CodedEntry, ForChedTypes


class ControlPoint(ForChedTypes, CodedEntry):
    """A place a decision sends goods to under control, with the CHED types it may receive (`ched_types`) and
    the goods it is designated for. `code`: its code in IMSOC (TRACES NT) or its approval number. `confirmed`
    is False for a row not read in the official list (assumed, to check against TRACES NT)."""

    class Kind(models.TextChoices):
        # Regulation (EU) 2017/625 art. 53(1)(a); Delegated Regulation (EU) 2019/2123 (transfer)
        CONTROL_POINT = "control_point", _("Control point")
        # Delegated Regulation (EU) 2019/2124 arts 2(5), 9, 10 (onward transportation)
        ONWARD_FACILITY = "onward_facility", _("Onward transportation facility")
        # Delegated Regulation (EU) 2019/1666 arts 2-3 (channelled: the establishment at the place of destination)
        ESTABLISHMENT = "establishment", _("Establishment of destination")
        # Delegated Regulation (EU) 2019/2124 arts 2(3), 2(9), 23 (approved customs warehouse, free zone)
        WAREHOUSE = "warehouse", _("Approved warehouse")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=300)
    goods = models.CharField(_("goods it is designated for"), max_length=300, blank=True)
    confirmed = models.BooleanField(_("read in the official list"), default=False)

    class Meta(CodedEntry.Meta):
        verbose_name = _("control point or warehouse")
        verbose_name_plural = _("control points and warehouses")


class ArrivalConfirmation(models.Model):
    """The receiving side's confirmation that the goods arrived where the decision sent them (or did not),
    Part III of the same CHED (Delegated Regulation (EU) 2019/1666 art. 3(2); 2019/2124 art. 7)."""

    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="arrival_confirmation")
    control_point = models.ForeignKey(ControlPoint, on_delete=models.PROTECT, related_name="+")
    arrived = models.BooleanField(_("arrived"))
    arrived_on = models.DateField(_("date of arrival"), null=True, blank=True)
    seals_intact = models.BooleanField(_("seals intact"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"))

    def __str__(self):
        return f"{self.consignment}: {self.control_point.code}"
