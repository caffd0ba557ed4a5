"""Reference data. Every row has an effective period, so that a rule change is a new row, not an edit,
and a past consignment is always judged by the rules in force on its date."""

import datetime

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def in_language(french: str, english: str) -> str:
    """The text for the active language: English when the user reads English, French otherwise."""
    return english if (get_language() or "fr").startswith("en") else french


class InForceQuerySet(models.QuerySet):
    def in_force(self, on: datetime.date):
        return self.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=on), valid_from__lte=on)


class Effective(models.Model):
    valid_from = models.DateField(_("valid from"), default=datetime.date(2026, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = InForceQuerySet.as_manager()

    class Meta:
        abstract = True


class Bilingual(models.Model):
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return in_language(self.name_fr, self.name_en)


class CodedEntry(Bilingual, Effective):
    code = models.CharField(_("code"), max_length=40, unique=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} – {self.name}"


class ChedType(Bilingual):
    """CHED-A, CHED-P, CHED-PP, CHED-D (Implementing Regulation (EU) 2019/1715), and NAT-PP, the national
    plant-health entry of goods from mainland France and the other Member States into an overseas department
    (arrêté du 3 septembre 1990, Annex III B-1): `is_ched` False, never a CHED nor for TRACES NT, and its
    `legal_basis` printed on its document and recorded in its check plan (docs/regulation.md, section 3)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    is_ched = models.BooleanField(_("a CHED (Regulation (EU) 2017/625, art. 56)"), default=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    # NAT-PP covers the goods of CHED-PP: one catalogue for both, so that a rate change is made once.
    catalogue = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="catalogue_borrowers",
        verbose_name=_("uses the commodity catalogue of"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("CHED type")

    def __str__(self):
        return self.code

    @property
    def catalogue_type_id(self) -> int:
        """The CHED type whose commodity lines this type's consignments take (its own, or `catalogue`'s)."""
        return self.catalogue_id or self.pk

    @property
    def reference_prefix(self) -> str:
        return self.code.replace("-", "")  # "CHED-PP" -> "CHEDPP"


class Bcp(CodedEntry):
    """A Border Control Post and the CHED types it is approved for (through BcpApproval)."""

    class Kind(models.TextChoices):
        PORT = "port", _("Port")
        AIRPORT = "airport", _("Airport")

    unlocode = models.CharField(_("UN/LOCODE"), max_length=5)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)

    class Meta(CodedEntry.Meta):
        verbose_name = _("BCP")
        verbose_name_plural = _("BCPs")


class BcpApproval(Effective):
    """A BCP's approval for a CHED type. `short_notice`: the BCP accepts pre-notification 4 hours before
    arrival instead of one working day (Implementing Regulation (EU) 2019/1013, art. 1(2))."""

    bcp = models.ForeignKey(Bcp, on_delete=models.CASCADE, related_name="approvals")
    ched_type = models.ForeignKey(ChedType, on_delete=models.PROTECT, related_name="+")
    short_notice = models.BooleanField(_("4-hour pre-notification allowed"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bcp", "ched_type", "valid_from"], name="uniq_bcp_approval"),
        ]

    def __str__(self):
        return f"{self.bcp.code}: {self.ched_type.code}"


class Commodity(Effective):
    """A line of the commodity catalogue: the CN codes accepted on a CHED type, with their default check
    frequencies (Regulations (EU) 2019/2129, 2019/2130)."""

    cn_code = models.CharField(_("CN code"), max_length=10, db_index=True)
    ched_type = models.ForeignKey(ChedType, on_delete=models.PROTECT, related_name="commodities")
    description_fr = models.CharField(_("description (French)"), max_length=300)
    description_en = models.CharField(_("description (English)"), max_length=300)
    species = models.CharField(_("species"), max_length=200, blank=True)
    eppo_code = models.CharField(_("EPPO code"), max_length=12, blank=True)
    identity_rate = models.PositiveSmallIntegerField(_("identity check rate (%)"))
    physical_rate = models.PositiveSmallIntegerField(_("physical check rate (%)"))

    class Meta:
        ordering = ["ched_type", "cn_code"]
        verbose_name = _("commodity")
        verbose_name_plural = _("commodities")
        constraints = [
            models.UniqueConstraint(fields=["cn_code", "ched_type", "valid_from"], name="uniq_commodity"),
            models.CheckConstraint(
                condition=models.Q(identity_rate__lte=100, physical_rate__lte=100), name="commodity_rates_percent"
            ),
        ]

    def __str__(self):
        return f"{self.cn_code} – {self.description}"

    @property
    def description(self) -> str:
        return in_language(self.description_fr, self.description_en)


class PlantHealthRequirement(Effective):
    """A row of the plant-health import regime of Martinique, outside the Union plant-health territory
    (Regulation (EU) 2016/2031, art. 1(3)): what the French national texts for the overseas departments require
    of a commodity (CN code prefix) by origin: prohibited, a phytosanitary certificate and a check at the post, or
    nothing. `legal_reference` names the text, annex and point; `read` False marks a row whose annex was not read
    (an assumption, docs/regulation.md, section 3). Rows from `inspection/migrations/data/plant_health_dom.json`."""

    class Requirement(models.TextChoices):
        PROHIBITED = "prohibited", _("Prohibited")
        CERTIFICATE = "certificate", _("Phytosanitary certificate and check at the post")
        FREE = "free", _("Free of plant-health requirements")

    class Origin(models.TextChoices):
        UNION = "union", _("Mainland France and the other Member States")
        THIRD_COUNTRY = "third_country", _("Third countries")
        ANY = "any", _("Any origin")

    code = models.CharField(_("code"), max_length=40, unique=True)
    cn_prefix = models.CharField(_("CN code prefix"), max_length=10)
    description_fr = models.CharField(_("description (French)"), max_length=300)
    description_en = models.CharField(_("description (English)"), max_length=300)
    origin = models.CharField(_("origin"), max_length=20, choices=Origin.choices)
    # ISO codes separated by spaces; empty: every country of `origin`
    countries = models.CharField(_("countries"), max_length=200, blank=True)
    requirement = models.CharField(_("requirement"), max_length=20, choices=Requirement.choices)
    # a document that lifts a prohibition (a derogation granted case by case), by DocumentType code
    lifted_by = models.CharField(_("prohibition lifted by the document"), max_length=40, blank=True)
    legal_reference = models.CharField(_("legal reference"), max_length=300)
    source_url = models.CharField(_("source"), max_length=300)  # an address, shown as text
    read = models.BooleanField(_("annex read"), default=True)

    class Meta:
        ordering = ["cn_prefix", "code"]
        verbose_name = _("plant-health requirement")

    def __str__(self):
        return f"{self.code} – {self.requirement}"

    @property
    def description(self) -> str:
        return in_language(self.description_fr, self.description_en)

    def covers(self, *, origin: str, union: bool, cn_code: str) -> bool:
        if not cn_code.startswith(self.cn_prefix):
            return False
        if (self.origin == self.Origin.UNION and not union) or (self.origin == self.Origin.THIRD_COUNTRY and union):
            return False
        return not self.countries or origin in self.countries.split()


class DocumentType(CodedEntry):
    required_for = models.ManyToManyField(ChedType, blank=True, related_name="required_documents")

    class Meta(CodedEntry.Meta):
        verbose_name = _("document type")


class Purpose(CodedEntry):
    class Meta(CodedEntry.Meta):
        verbose_name = _("purpose")


class PackageType(CodedEntry):
    class Meta(CodedEntry.Meta):
        verbose_name = _("package type")


class ForChedTypes(models.Model):
    """A code that applies to some CHED types only (no slaughter for plants): `ched_types`, or every type when
    none is set (docs/regulation.md)."""

    ched_types = models.ManyToManyField(
        ChedType, blank=True, related_name="+", verbose_name=_("applies to (none: every CHED type)")
    )

    class Meta:
        abstract = True


class DecisionCode(ForChedTypes, CodedEntry):
    """A decision of CHED Part II (box II.9 onwards). `requires`: the fields this decision needs (transit: the
    exit BCP and the third country of destination; channelled: the destination and its control point; a
    specific warehouse: the approved warehouse), names of `Decision` fields (`DECISION_DETAILS`)."""

    acceptable = models.BooleanField()
    requires = models.JSONField(_("fields required"), default=list, blank=True)

    class Meta(CodedEntry.Meta):
        verbose_name = _("decision")


class Measure(ForChedTypes, CodedEntry):
    """A measure for a consignment that is not acceptable (Regulation (EU) 2017/625, arts. 66 and 67), and the
    Part III outcomes that close it (`outcomes`, codes of `FollowUp.Outcome`)."""

    outcomes = models.JSONField(_("Part III outcomes"), default=list, blank=True)

    class Meta(CodedEntry.Meta):
        verbose_name = _("measure")


class RefusalReason(ForChedTypes, CodedEntry):
    class Meta(CodedEntry.Meta):
        verbose_name = _("refusal reason")


class Holiday(Bilingual):
    """A local non-working day of the post that no national text sets (Good Friday by local custom, a carnival
    day or a cyclone warning by prefectoral order). The legal public holidays are computed for any year
    (`inspection.working_days`); both are closed days for the pre-notification deadline."""

    date = models.DateField(_("date"), unique=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("local non-working day")

    def __str__(self):
        return f"{self.date}: {self.name}"
