"""The consignment and its CHED Part I."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .operators import Operator
from .reference import Bcp, ChedType, Commodity, DocumentType, PackageType, Purpose
from .storage import private_storage


class ConsignmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    CHECKING = "checking", _("Checks in progress")
    AWAITING_LAB = "awaiting_lab", _("Awaiting laboratory results")
    AWAITING_DECISION = "awaiting_decision", _("Awaiting decision")
    AWAITING_COUNTERSIGN = "awaiting_countersign", _("Refusal awaiting countersignature")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REPLACED = "replaced", _("Replaced")
    SPLIT = "split", _("Split")


class Succession(models.TextChoices):
    """How a CHED came from a previous one (2019/1715 Annex II, box II.1 "Previous CHED"): it replaces it, or it
    is one part of it after a split at the BCP (box II.24 "Subsequent CHED" of the previous one)."""

    REPLACEMENT = "replacement", _("Replacement")
    SPLIT_PART = "split_part", _("Part of a split consignment")


class TransportMode(models.TextChoices):
    SEA = "sea", _("Sea")
    AIR = "air", _("Air")
    ROAD = "road", _("Road")


class TransportConditions(models.TextChoices):
    """Box I.16 of the CHED-P and CHED-D models: the temperature the goods travel at."""

    AMBIENT = "ambient", _("Ambient")
    CHILLED = "chilled", _("Chilled")
    FROZEN = "frozen", _("Frozen")


class Conformity(models.TextChoices):
    """Box I.19 of the CHED-P model: whether the goods comply with the Union's food and feed law (2017/625,
    art. 1(2)(a)); non-conforming goods are not placed on the market (specific warehouse, free zone, vessel)."""

    CONFORMING = "conforming", _("Conforming")
    NON_CONFORMING = "non_conforming", _("Non-conforming")


class JourneyLog(models.TextChoices):
    """Box I.30 of the CHED-A model: a journey log under Council Regulation (EC) No 1/2005."""

    YES = "yes", _("Yes")
    NO = "no", _("No")


class CustomsStatus(models.TextChoices):
    """The customs status of the goods (Regulation (EU) No 952/2013, the Union Customs Code, art. 5(22)-(24))."""

    NON_UNION = "non_union", _("Non-Union goods")
    UNION = "union", _("Union goods")


class CustomsProcedure(models.TextChoices):
    """The customs procedure the goods are declared for (Union Customs Code, arts. 201, 210, 226, 237, 240,
    250, 256, 259)."""

    FREE_CIRCULATION = "free_circulation", _("Release for free circulation")
    TRANSIT = "transit", _("Transit")
    CUSTOMS_WAREHOUSE = "customs_warehouse", _("Customs warehousing")
    FREE_ZONE = "free_zone", _("Free zone")
    INWARD_PROCESSING = "inward_processing", _("Inward processing")
    OUTWARD_PROCESSING = "outward_processing", _("Outward processing")
    TEMPORARY_ADMISSION = "temporary_admission", _("Temporary admission")


class Consignment(models.Model):
    """A CHED: Part I as declared by the operator. Its status only changes through
    `inspection.services.transitions.consignment_transition`."""

    reference = models.CharField(_("CHED reference"), max_length=30, unique=True)
    # TRACES NT's number of the same CHED, when known (our `reference` is in our own series): recorded by staff
    traces_reference = models.CharField(_("TRACES NT CHED number"), max_length=30, blank=True, db_index=True)
    ched_type = models.ForeignKey(ChedType, on_delete=models.PROTECT, related_name="+", verbose_name=_("CHED type"))
    status = models.CharField(
        _("status"), max_length=20, choices=ConsignmentStatus.choices, default=ConsignmentStatus.DRAFT
    )
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="consignments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    bcp = models.ForeignKey(Bcp, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("BCP"))
    consignor_name = models.CharField(_("consignor name"), max_length=200, blank=True)
    consignor_address = models.TextField(_("consignor address"), blank=True)
    consignor_country = CountryField(_("consignor country"), blank=True)
    consignee_name = models.CharField(_("consignee name"), max_length=200, blank=True)
    consignee_address = models.TextField(_("consignee address"), blank=True)
    consignee_country = CountryField(_("consignee country"), blank=True)
    country_of_origin = CountryField(_("country of origin"), blank=True)
    # The other boxes of Part I (Implementing Regulation (EU) 2019/1715, Annex II), declared in
    # inspection/part_one_schema.py: I.7 place of destination, I.12, I.14, I.16, I.28 transporter, I.34 gross weight
    destination_name = models.CharField(_("place of destination"), max_length=200, blank=True)
    destination_address = models.TextField(_("address of the place of destination"), blank=True)
    destination_country = CountryField(_("country of the place of destination"), blank=True)
    destination_approval_number = models.CharField(
        _("registration or approval number of the place of destination"), max_length=50, blank=True
    )
    region_of_origin = models.CharField(_("region of origin"), max_length=100, blank=True)
    country_of_dispatch = CountryField(_("country of dispatch"), blank=True)
    transport_conditions = models.CharField(
        _("transport conditions"), max_length=10, choices=TransportConditions.choices, blank=True
    )
    transporter_name = models.CharField(_("transporter"), max_length=200, blank=True)
    transporter_address = models.TextField(_("address of the transporter"), blank=True)
    transporter_approval_number = models.CharField(_("approval number of the transporter"), max_length=50, blank=True)
    total_gross_weight_kg = models.DecimalField(
        _("total gross weight (kg)"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # I.19 (CHED-P), I.21 (CHED-PP, CHED-D), I.22, I.27, I.29 and I.30 (CHED-A): part_one_schema.py
    conformity = models.CharField(_("conformity of the goods"), max_length=15, choices=Conformity.choices, blank=True)
    onward_facility = models.CharField(_("onward transportation facility"), max_length=200, blank=True)
    transit_country = CountryField(_("third country of destination of the transit"), blank=True)
    transit_exit_bcp = models.CharField(_("exit border control post"), max_length=100, blank=True)
    after_bcp_transport_mode = models.CharField(
        _("means of transport after the BCP"), max_length=5, choices=TransportMode.choices, blank=True
    )
    after_bcp_transport_id = models.CharField(
        _("identification of the means of transport after the BCP"), max_length=100, blank=True
    )
    departure_at = models.DateTimeField(_("date of departure from the BCP"), null=True, blank=True)
    journey_log = models.CharField(_("journey log"), max_length=3, choices=JourneyLog.choices, blank=True)
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("purpose"))
    expected_arrival = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    # recorded by the post when the goods are there (`consignment_arrival_record`): identity and physical
    # checks wait for it (Regulation (EU) 2017/625 art. 49(1), "upon arrival")
    arrived_at = models.DateTimeField(_("arrived at the post"), null=True, blank=True)
    transport_mode = models.CharField(_("transport mode"), max_length=5, choices=TransportMode.choices, blank=True)
    transport_id = models.CharField(_("means of transport"), max_length=100, blank=True)
    transport_document = models.CharField(_("transport document"), max_length=100, blank=True)
    # the customs side of the consignment (issue 20): what customs will match the post's decision against
    customs_status = models.CharField(
        _("customs status of the goods"), max_length=10, choices=CustomsStatus.choices, blank=True
    )
    customs_procedure = models.CharField(
        _("customs procedure"), max_length=20, choices=CustomsProcedure.choices, blank=True
    )
    customs_mrn = models.CharField(_("customs declaration (MRN)"), max_length=18, blank=True, db_index=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    # box II.1: the CHED this one replaces or was split from (`services/replacements.py`, `services/split.py`)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsequent",
        verbose_name=_("previous CHED"),
    )
    succession = models.CharField(
        _("how it follows the previous CHED"), max_length=12, choices=Succession.choices, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consignment")
        indexes = [
            models.Index(fields=["operator", "-created_at"], name="consignment_operator_recent"),
            models.Index(fields=["status", "expected_arrival"], name="consignment_status_arrival"),
            models.Index(fields=["submitted_at"], name="consignment_submitted"),  # the dashboard's periods
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("portal:consignment-detail", kwargs={"reference": self.reference})

    @property
    def is_draft(self) -> bool:
        return self.status == ConsignmentStatus.DRAFT


# The most animals one CHED-A line may declare: a full freighter of day-old chicks is some 100,000 head; above
# a million is a typing error, not a consignment.
MAX_NUMBER_OF_ANIMALS = 1_000_000


class Container(models.Model):
    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="containers")
    number = models.CharField(_("container number"), max_length=20)
    seal = models.CharField(_("seal number"), max_length=40, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.number


class CommodityLine(models.Model):
    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="lines")
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cn_code = models.CharField(_("CN code"), max_length=10, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    species = models.CharField(_("species"), max_length=200, blank=True)
    eppo_code = models.CharField(_("EPPO code"), max_length=12, blank=True)
    net_weight_kg = models.DecimalField(
        _("net weight (kg)"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    packages = models.PositiveIntegerField(_("packages"), null=True, blank=True)
    # CHED-A only (box I.31, number of animals; summed in I.33); null on the other CHED types.
    number_of_animals = models.PositiveIntegerField(
        _("number of animals"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_NUMBER_OF_ANIMALS)],
    )
    package_type = models.ForeignKey(
        PackageType, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("package type")
    )
    # box I.15: name and approval number of the establishment the goods come from (required for CHED-P)
    establishment_of_origin = models.CharField(_("establishment of origin"), max_length=100, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.cn_code} {self.description}"


class AccompanyingDocument(models.Model):
    """A document listed in Part I and, when the importer uploaded it, its file (stored under a random
    name; `filename` is the name it was uploaded with, for the download only)."""

    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="documents")
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("document reference"), max_length=100)
    file = models.FileField(_("file"), storage=private_storage, upload_to="documents/%Y/%m/", blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.document_type.code} {self.reference}"

    @property
    def has_file(self) -> bool:
        return bool(self.file)


class ReferenceSequence(models.Model):
    """The last CHED number given per CHED type and year. Incremented under a row lock in the same
    transaction as the consignment it numbers, so numbers are unique and gap-free."""

    ched_type = models.ForeignKey(ChedType, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ched_type", "year"], name="uniq_reference_sequence")]

    def __str__(self):
        return f"{self.ched_type_id}/{self.year}: {self.last}"
