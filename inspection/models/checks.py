"""Part II: the checks, samples, lab results and decision of a consignment, and Part III: its follow-up.

Each row is written by one service in `inspection/services/` in the transaction of the workflow step that
records it; the flow in `workflows/flows.py` only routes on them."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .consignments import AccompanyingDocument, Consignment
from .fees import FeeCategory
from .reference import CodedEntry, DecisionCode, Effective, ForChedTypes, Measure, RefusalReason
from .storage import private_storage


class CheckResult(models.TextChoices):
    SATISFACTORY = "satisfactory", _("Satisfactory")
    NOT_SATISFACTORY = "not_satisfactory", _("Not satisfactory")
    NOT_DONE = "not_done", _("Not done")


class ReinforcedCheckRule(Effective):
    """A raised check frequency for an origin and commodity (e.g. Implementing Regulation (EU) 2019/1793,
    Annex I). `cn_prefix` matches a CN code by its start; an empty country matches every origin."""

    ched_type = models.ForeignKey("inspection.ChedType", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(_("country of origin"), max_length=2, blank=True)
    cn_prefix = models.CharField(_("CN code prefix"), max_length=10)
    hazard = models.CharField(_("hazard"), max_length=200)
    identity_rate = models.PositiveSmallIntegerField(_("identity check rate (%)"), default=100)
    physical_rate = models.PositiveSmallIntegerField(_("physical check rate (%)"))
    legal_reference = models.CharField(_("legal reference"), max_length=200)
    # Implementing Regulation (EU) 2019/1793, Annex II: the official certificate and the results of sampling
    # and analyses by the country of origin accompany each consignment (arts. 10 and 11).
    certificate_required = models.BooleanField(_("official certificate and analyses required"), default=False)
    # An "ex" CN code covers only part of the code: the TARIC subdivisions (space-separated) say which part, and a
    # line matches only with its 10-digit code (CN + TARIC). An "ex" code the annex narrows by description alone
    # keeps `taric` empty: it matches the whole code, and `goods` says what the officer checks at the
    # documentary check.
    taric = models.CharField(_("TARIC subdivisions"), max_length=40, blank=True)
    ex_code = models.BooleanField(_('covers only part of the CN code ("ex")'), default=False)
    goods = models.CharField(_("goods, as the text names them"), max_length=300, blank=True)
    # 2019/1793 Annex II point 3: goods of one origin dispatched from another country (I.14); empty: any dispatch
    country_of_dispatch = models.CharField(_("country of dispatch"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("reinforced check rule")

    def __str__(self):
        return f"{self.ched_type_id} {self.country or '*'} {self.cn_prefix}*: {self.physical_rate} %"

    def covers(self, cn_code: str) -> bool:
        """A line's CN code (8 digits, or 10 with its TARIC subdivision) is within this rule's goods."""
        if not cn_code.startswith(self.cn_prefix):
            return False
        return not self.taric or (len(cn_code) == 10 and cn_code[8:] in self.taric.split())


class Laboratory(CodedEntry):
    """An official laboratory. Its `accounts` are the API users that may post results for its samples."""

    email = models.EmailField(blank=True)
    accounts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="laboratories")

    class Meta(CodedEntry.Meta):
        verbose_name = _("laboratory")
        verbose_name_plural = _("laboratories")


class Analysis(ForChedTypes, CodedEntry):
    """An analysis a sample can be sent for, with the days the lab has to answer; for the CHED types and the
    commodities it is meant for (`cn_prefixes`: CN codes by their start, separated by spaces; none: every
    commodity of those types)."""

    result_due_days = models.PositiveSmallIntegerField(_("result due within (days)"))
    cn_prefixes = models.CharField(_("CN code prefixes"), max_length=200, blank=True)

    class Meta(CodedEntry.Meta):
        verbose_name = _("analysis")
        verbose_name_plural = _("analyses")


class CheckPlan(models.Model):
    """Which checks were selected and why: the rule, its rates and the random draw, so that anyone can
    re-run the selection (Regulation (EU) 2019/2129, 2019/2130 and 2019/1793)."""

    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="check_plan")
    rule = models.CharField(_("rule"), max_length=200)
    identity_rate = models.PositiveSmallIntegerField(_("identity check rate (%)"))
    physical_rate = models.PositiveSmallIntegerField(_("physical check rate (%)"))
    identity_draw = models.FloatField(_("identity draw"))
    physical_draw = models.FloatField(_("physical draw"))
    identity_selected = models.BooleanField(_("identity check selected"))
    physical_selected = models.BooleanField(_("physical check selected"))
    planned_at = models.DateTimeField(_("planned"))

    class Meta:
        indexes = [models.Index(fields=["planned_at"], name="checkplan_planned")]  # the dashboard's periods

    def __str__(self):
        return f"{self.consignment}: {self.rule}"


class Check(models.Model):
    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="+")
    result = models.CharField(_("result"), max_length=20, choices=CheckResult.choices)
    reason = models.TextField(_("reason"), blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.consignment}: {self.get_result_display()}"

    @property
    def satisfactory(self) -> bool:
        return self.result == CheckResult.SATISFACTORY


class DocumentaryCheck(Check):
    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="documentary_check")


class DocumentVerdict(models.Model):
    """The documentary check's verdict on one accompanying document."""

    check_record = models.ForeignKey(DocumentaryCheck, on_delete=models.CASCADE, related_name="verdicts")
    document = models.ForeignKey(AccompanyingDocument, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"))
    valid = models.BooleanField(_("valid"))

    def __str__(self):
        return f"{self.document}: {'ok' if self.present and self.valid else 'not ok'}"


class IdentityCheck(Check):
    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="identity_check")
    seals_as_declared = models.BooleanField(_("seal numbers as declared"))
    goods_as_declared = models.BooleanField(_("goods as declared"))


class PhysicalCheck(Check):
    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="physical_check")
    findings = models.TextField(_("findings"), blank=True)


class CheckStep(models.TextChoices):
    DOCUMENTARY = "documentary", _("Documentary check")
    IDENTITY = "identity", _("Identity check")
    PHYSICAL = "physical", _("Physical check")


class CheckPhoto(models.Model):
    """A photo taken as evidence during a check. A consignment has at most one check record per step, so
    (consignment, step) names the check it belongs to (a foreign key would need one nullable column per check
    table). The file is the photo re-encoded without any metadata (EXIF, GPS, XMP, ICC profile, comments),
    upright; `sha256` is that file's, as listed in the check's audit event. Internal evidence: shown to
    staff only, never to importers."""

    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="check_photos")
    step = models.CharField(_("check"), max_length=20, choices=CheckStep.choices)
    file = models.FileField(_("file"), storage=private_storage, upload_to="check-photos/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=20)
    width = models.PositiveIntegerField(_("width (pixels)"))
    height = models.PositiveIntegerField(_("height (pixels)"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("check photo")
        indexes = [models.Index(fields=["consignment", "step"], name="check_photo_consignment_step")]

    def __str__(self):
        return f"{self.consignment}: {self.get_step_display()} {self.sha256[:12]}"

    # The photo shown as a thumbnail is the file itself, scaled by the browser into this box (pixels).
    THUMBNAIL_BOX = 160

    @property
    def thumbnail_width(self) -> int:
        return max(1, round(self.width * self._thumbnail_scale))

    @property
    def thumbnail_height(self) -> int:
        return max(1, round(self.height * self._thumbnail_scale))

    @property
    def _thumbnail_scale(self) -> float:
        return min(1.0, self.THUMBNAIL_BOX / max(self.width, self.height, 1))


class Sample(models.Model):
    """A sample taken during the physical check of a consignment, or the inspection of an export `application`
    (exactly one of the two). `detained`: the consignment waits for the result; otherwise it is released pending
    the result, and a bad result recalls it. An export sample is always detained: the certificate waits."""

    class Reason(models.TextChoices):
        RANDOM = "random", _("Random")
        SUSPICION = "suspicion", _("Suspicion")
        REINFORCED = "reinforced", _("Reinforced check")

    class Conservation(models.TextChoices):
        AMBIENT = "ambient", _("Ambient")
        CHILLED = "chilled", _("Chilled")
        FROZEN = "frozen", _("Frozen")

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting result")
        RESULT = "result", _("Result received")
        LATE = "late", _("Result late")
        WAIVED = "waived", _("Decision without this result")

    consignment = models.ForeignKey(
        Consignment, on_delete=models.CASCADE, related_name="samples", null=True, blank=True
    )
    application = models.ForeignKey(
        "inspection.ExportApplication", on_delete=models.CASCADE, related_name="samples", null=True, blank=True
    )
    number = models.CharField(_("sample number"), max_length=40, unique=True)
    analysis = models.ForeignKey(Analysis, on_delete=models.PROTECT, related_name="+")
    laboratory = models.ForeignKey(Laboratory, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    conservation = models.CharField(_("conservation"), max_length=20, choices=Conservation.choices)
    detained = models.BooleanField(_("consignment detained until the result"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(_("taken"))
    result_due_at = models.DateTimeField(_("result due"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consignment__isnull=False, application__isnull=True)
                | models.Q(consignment__isnull=True, application__isnull=False),
                name="sample_of_consignment_or_export",
            )
        ]

    def __str__(self):
        return self.number


class LabResultSubmission(models.Model):
    """A lab's post, stored as received before anything is applied (the evidence if a result is disputed)."""

    lab_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    outcome = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.outcome}"


class LabResult(models.Model):
    class Conclusion(models.TextChoices):
        SATISFACTORY = "satisfactory", _("Satisfactory")
        NOT_SATISFACTORY = "not_satisfactory", _("Not satisfactory")
        NOT_INTERPRETABLE = "not_interpretable", _("Not interpretable")

    sample = models.OneToOneField(Sample, on_delete=models.PROTECT, related_name="result")
    submission = models.ForeignKey(LabResultSubmission, on_delete=models.PROTECT, related_name="+")
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices)
    analytes = models.JSONField(_("analytes and values"), default=list, encoder=DjangoJSONEncoder)
    report = models.FileField(_("report (PDF)"), storage=private_storage, upload_to="lab-reports/%Y/%m/", blank=True)
    received_at = models.DateTimeField(_("received"))
    late = models.BooleanField(_("received after its deadline"), default=False)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="labresult_received")]  # the dashboard's periods

    def __str__(self):
        return f"{self.sample}: {self.get_conclusion_display()}"


class Decision(models.Model):
    """Part II: the certifying officer's decision. A refusal takes effect once a supervisor countersigns it.
    A recall (an unsatisfactory result after release) supersedes the decision with a new one."""

    consignment = models.ForeignKey(Consignment, on_delete=models.CASCADE, related_name="decisions")
    code = models.ForeignKey(DecisionCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("decision"))
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("measure")
    )
    measure_deadline = models.DateField(_("measure deadline"), null=True, blank=True)
    reasons = models.ManyToManyField(RefusalReason, blank=True, related_name="+", verbose_name=_("reasons"))
    # what the decision code `requires` (Delegated Regulation (EU) 2019/2124 and CHED box II.9-II.12)
    exit_bcp = models.CharField(_("exit BCP"), max_length=100, blank=True)
    destination_country = CountryField(_("third country of destination"), blank=True)
    destination = models.CharField(_("destination (establishment or control point)"), max_length=300, blank=True)
    warehouse = models.CharField(_("approved warehouse"), max_length=300, blank=True)
    control_point = models.CharField(_("control point (transfer)"), max_length=300, blank=True)
    control_point_code = models.CharField(_("control point code (IMSOC)"), max_length=40, blank=True)
    next_bcp = models.CharField(
        _("next BCP on the same vessel or aircraft (onward travel)"), max_length=100, blank=True
    )
    onward_facility = models.CharField(_("onward transportation facility"), max_length=300, blank=True)
    # where the goods must arrive under control (channelled, transfer, onward transportation, specific
    # warehouse): the receiving side confirms it (`inspection.services.onward`)
    arrival_point = models.ForeignKey(
        "inspection.ControlPoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("control point, establishment or warehouse of arrival"),
    )
    notes = models.TextField(_("notes"), blank=True)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"))
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    countersigned_at = models.DateTimeField(_("countersigned"), null=True, blank=True)
    superseded = models.BooleanField(_("superseded"), default=False)
    # The fee statement of the controls (Regulation (EU) 2017/625, art. 79), drawn with the decision from the
    # schedule in force (`inspection.services.fees`); none on decisions recorded before fees were drawn.
    fee_category = models.CharField(_("fee category"), max_length=10, choices=FeeCategory.choices, blank=True)
    fee_weight_tonnes = models.DecimalField(
        _("weight charged (tonnes)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    fee_lines = models.JSONField(_("fee lines"), default=list, blank=True)
    fee_total_eur = models.DecimalField(_("fees (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["decided_at"], name="decision_decided")]  # the dashboard's periods

    def __str__(self):
        return f"{self.consignment}: {self.code.code}"

    @property
    def acceptable(self) -> bool:
        return self.code.acceptable


class FollowUp(models.Model):
    """Part III: what became of a refused or channelled consignment."""

    class Outcome(models.TextChoices):
        DESTROYED = "destroyed", _("Destroyed")
        REDISPATCHED = "redispatched", _("Re-dispatched")
        TREATED = "treated", _("Special treatment done")
        OTHER_USE = "other_use", _("Used for other purposes")
        ARRIVED = "arrived", _("Arrival at destination confirmed")
        NOT_ARRIVED = "not_arrived", _("Did not arrive at destination")
        SLAUGHTERED = "slaughtered", _("Slaughtered")
        EUTHANISED = "euthanised", _("Euthanised")
        QUARANTINE_DONE = "quarantine_done", _("Quarantine completed")

    consignment = models.OneToOneField(Consignment, on_delete=models.CASCADE, related_name="follow_up")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    evidence = models.TextField(_("evidence"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))

    def __str__(self):
        return f"{self.consignment}: {self.get_outcome_display()}"
