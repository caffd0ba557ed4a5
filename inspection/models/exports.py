"""Exports: an exporter's application for a phytosanitary certificate (ISPM 12), its lines, the post's checks
and the certificates issued (a signed PDF and its ePhyto XML)."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .certificates import certificate_verify_key
from .consignments import TransportMode
from .operators import Operator
from .reference import Effective, in_language
from .storage import private_storage


class ExportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    CHECKING = "checking", _("Checks in progress")
    ISSUED = "issued", _("Certificate issued")
    REFUSED = "refused", _("Certificate refused")
    CANCELLED = "cancelled", _("Cancelled")


class ExportKind(models.TextChoices):
    """ISPM 12 has two models: the phytosanitary certificate for export, and the one for re-export of goods
    that came in from another country (under a CHED-PP)."""

    EXPORT = "export", _("Export")
    REEXPORT = "reexport", _("Re-export")


class ExportSequence(models.Model):
    """The last export application number given per year (locked and incremented in the creating
    transaction, as the CHED references are)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class ExportApplication(models.Model):
    """An exporter's application for a phytosanitary certificate: what the certificate will state. Its status
    only changes through `inspection.services.exports`."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ExportKind.choices, default=ExportKind.EXPORT)
    status = models.CharField(_("status"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.DRAFT)
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="export_applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    consignor_name = models.CharField(_("consignor name"), max_length=200, blank=True)
    consignor_address = models.TextField(_("consignor address"), blank=True)
    consignee_name = models.CharField(_("consignee name"), max_length=200, blank=True)
    consignee_address = models.TextField(_("consignee address"), blank=True)
    consignee_country = CountryField(_("consignee country"), blank=True)
    destination_country = CountryField(_("country of destination"), blank=True)
    point_of_entry = models.CharField(_("declared point of entry"), max_length=100, blank=True)
    point_of_entry_unlocode = models.CharField(_("UN/LOCODE of the point of entry"), max_length=5, blank=True)
    transport_mode = models.CharField(_("means of conveyance"), max_length=5, choices=TransportMode.choices, blank=True)
    transport_id = models.CharField(_("vessel, flight or vehicle"), max_length=100, blank=True)
    distinguishing_marks = models.CharField(_("distinguishing marks"), max_length=200, blank=True)
    # ISPM 12, "Disinfestation and/or disinfection treatment"
    treatment_date = models.DateField(_("treatment date"), null=True, blank=True)
    treatment = models.CharField(_("treatment"), max_length=200, blank=True)
    treatment_chemical = models.CharField(_("chemical (active ingredient)"), max_length=200, blank=True)
    treatment_duration_temperature = models.CharField(_("duration and temperature"), max_length=100, blank=True)
    treatment_concentration = models.CharField(_("concentration"), max_length=100, blank=True)
    treatment_information = models.TextField(_("additional information on the treatment"), blank=True)
    additional_declarations = models.TextField(_("additional declarations"), blank=True)
    # re-export: the certificate of the country of origin the goods came in with, and their CHED-PP
    original_certificate = models.CharField(_("original phytosanitary certificate"), max_length=100, blank=True)
    original_country = CountryField(_("country of origin (re-export)"), blank=True)
    ched_reference = models.CharField(_("CHED-PP of the import"), max_length=30, blank=True)

    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export application")
        indexes = [models.Index(fields=["operator", "-created_at"], name="export_operator_recent")]

    def __str__(self):
        return self.reference

    @property
    def is_draft(self) -> bool:
        return self.status == ExportStatus.DRAFT


class ExportLine(models.Model):
    """One line of the certificate's description of the consignment."""

    application = models.ForeignKey(ExportApplication, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("line"))
    description = models.CharField(_("description"), max_length=300)
    hs_code = models.CharField(_("HS code"), max_length=10)
    botanical_name = models.CharField(_("botanical name"), max_length=200)
    eppo_code = models.CharField(_("EPPO code"), max_length=12, blank=True)
    net_weight_kg = models.DecimalField(
        _("quantity (net weight, kg)"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    packages = models.PositiveIntegerField(_("number of packages"))
    package_type = models.CharField(_("package type"), max_length=10)
    place_of_production = models.CharField(_("place of production"), max_length=200)
    country_of_origin = CountryField(_("country of origin"), default="MQ")

    class Meta:
        ordering = ["application", "position"]
        verbose_name = _("export line")
        constraints = [models.UniqueConstraint(fields=["application", "position"], name="uniq_export_line")]

    def __str__(self):
        return f"{self.application_id}/{self.position}"


class ExportCheck(models.Model):
    """The post's documentary check or inspection of an export consignment (ISPM 7, ISPM 23)."""

    class Kind(models.TextChoices):
        DOCUMENTARY = "documentary", _("Documentary check")
        INSPECTION = "inspection", _("Inspection")

    class Result(models.TextChoices):
        SATISFACTORY = "satisfactory", _("Satisfactory")
        NOT_SATISFACTORY = "not_satisfactory", _("Not satisfactory")

    application = models.ForeignKey(ExportApplication, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    notes = models.TextField(_("notes"), blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))
    # the destination's requirements the documentary check confirmed, as they read then ([{id, kind, text}])
    requirements = models.JSONField(_("requirements confirmed"), default=list, blank=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("export check")
        constraints = [models.UniqueConstraint(fields=["application", "kind"], name="uniq_export_check_kind")]

    def __str__(self):
        return f"{self.application_id} {self.kind}"


class PhytosanitaryCertificate(models.Model):
    """One issued phytosanitary certificate: the signed PDF and its ePhyto XML, both fixed once issued (their
    SHA-256 stored here and in the audit trail). Checked at `/verify/<number>/<key>/` like a CHED."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REPLACED = "replaced", _("Replaced")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ExportKind.choices)
    application = models.ForeignKey(ExportApplication, on_delete=models.PROTECT, related_name="certificates")
    file = models.FileField(_("file"), storage=private_storage, upload_to="phyto/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    ephyto = models.FileField(_("ePhyto XML"), storage=private_storage, upload_to="phyto/%Y/%m/")
    ephyto_sha256 = models.CharField(_("SHA-256 of the ePhyto XML"), max_length=64)
    verify_key = models.CharField(_("verification code"), max_length=32, default=certificate_verify_key)
    signer = models.CharField(_("signed by"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALID)
    # ISPM 12 §1.3: a certificate is replaced by a new one (new number, stating the one it replaces) or withdrawn
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("replaces")
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(_("reason for revocation or replacement"), blank=True)

    class Meta:
        ordering = ["issued_at", "pk"]
        verbose_name = _("phytosanitary certificate")
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=models.Q(status="valid"), name="uniq_valid_phyto_per_application"
            )
        ]

    def __str__(self):
        return self.number


class DestinationRequirement(Effective):
    """What the importing country's NPPO requires of a commodity (a phytosanitary certificate, an additional
    declaration, a treatment, an import permit, an inspection...), or that it requires none, in force between two
    dates (`valid_from`, `valid_to`: the text's own effective dates), with its source: the address, the text and its
    article or section (`legal_reference`), the date it was read (`checked_on`) and whether the text itself was read
    (`read` False: an assumption, docs/regulation.md section 9). The application shows them as a checklist and the
    documentary check confirms each one. Rows from `inspection/migrations/data/destination_requirements.json`, kept
    by the post in the admin."""

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Phytosanitary certificate required")
        NOT_REQUIRED = "not_required", _("No phytosanitary certificate required")
        ADDITIONAL_DECLARATION = "additional_declaration", _("Additional declaration")
        TREATMENT = "treatment", _("Treatment")
        INSPECTION = "inspection", _("Inspection or testing")
        PERMIT = "permit", _("Import permit")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=40, unique=True)
    destination_country = CountryField(_("country of destination"))
    hs_prefix = models.CharField(
        _("HS codes (or their first digits)"),
        max_length=100,
        blank=True,
        help_text=_("Separated by spaces. Empty: every commodity."),
        validators=[
            RegexValidator(r"^(\d{2,10}( \d{2,10})*)?$", _("HS codes of 2 to 10 digits, separated by one space."))
        ],
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    text_fr = models.TextField(_("requirement (French)"))
    text_en = models.TextField(_("requirement (English)"))
    legal_reference = models.CharField(_("legal reference (text, article or section)"), max_length=500, blank=True)
    source = models.URLField(_("source"), max_length=500)
    checked_on = models.DateField(_("source checked on"))
    read = models.BooleanField(
        _("text read"), default=True, help_text=_("Unticked: an assumption, the text itself was not read.")
    )

    class Meta:
        ordering = ["destination_country", "hs_prefix", "pk"]
        verbose_name = _("destination requirement")

    def __str__(self):
        return f"{self.destination_country} {self.hs_prefix or '*'}: {self.get_kind_display()}"

    @property
    def text(self) -> str:
        return in_language(self.text_fr, self.text_en)

    def covers(self, hs_code: str) -> bool:
        """Whether the requirement applies to a line of that HS code (no prefix: every commodity)."""
        prefixes = self.hs_prefix.split()
        return not prefixes or any(hs_code.startswith(prefix) for prefix in prefixes)
