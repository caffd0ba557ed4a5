"""The administrators' pages (`/admin/`): reference data with its effective dates, laboratories and their API
accounts, operators and their users, staff posts. Consignments, checks, decisions and the audit trail are
not edited here: they change only through the services, which check who may act and write the audit event."""

from django.contrib import admin
from django.db.models import URLField

from inspection import models

CODED = ("code", "name_fr", "name_en", "valid_from", "valid_to")


class EffectiveAdmin(admin.ModelAdmin):
    list_display = CODED
    list_filter = ("valid_from", "valid_to")
    search_fields = ("code", "name_fr", "name_en")


for model in (
    models.Bcp,
    models.DocumentType,
    models.Purpose,
    models.PackageType,
    models.DecisionCode,
    models.Measure,
    models.RefusalReason,
    models.Analysis,
):
    admin.site.register(model, EffectiveAdmin)


@admin.register(models.Laboratory)
class LaboratoryAdmin(EffectiveAdmin):
    filter_horizontal = ("accounts",)


@admin.register(models.BcpApproval)
class BcpApprovalAdmin(admin.ModelAdmin):
    list_display = ("bcp", "ched_type", "short_notice", "valid_from", "valid_to")
    list_filter = ("bcp", "ched_type")


@admin.register(models.Commodity)
class CommodityAdmin(admin.ModelAdmin):
    list_display = ("cn_code", "ched_type", "identity_rate", "physical_rate", "valid_from", "valid_to")
    list_filter = ("ched_type",)
    search_fields = ("cn_code",)


@admin.register(models.ReinforcedCheckRule)
class ReinforcedCheckRuleAdmin(admin.ModelAdmin):
    list_display = (
        "ched_type",
        "country",
        "country_of_dispatch",
        "cn_prefix",
        "taric",
        "hazard",
        "physical_rate",
        "valid_from",
        "valid_to",
    )
    list_filter = ("ched_type", "country")


@admin.register(models.PlantHealthRequirement)
class PlantHealthRequirementAdmin(admin.ModelAdmin):
    list_display = ("code", "cn_prefix", "origin", "countries", "requirement", "read", "valid_from", "valid_to")
    list_filter = ("requirement", "origin", "read")
    search_fields = ("code", "cn_prefix", "description_fr", "description_en")


@admin.register(models.FeeRate)
class FeeRateAdmin(admin.ModelAdmin):
    """The fee schedule (Regulation (EU) 2017/625, art. 79, Annex IV, Chapter II): a new rate is a new row with
    its `valid_from`, the old one closed with `valid_to` (a past consignment keeps its statement)."""

    list_display = (
        "ched_type",
        "category",
        "charges",
        "up_to_tonnes",
        "fixed_eur",
        "per_tonne_eur",
        "valid_from",
        "valid_to",
    )
    list_filter = ("ched_type", "category", "charges")


@admin.register(models.ControlPoint)
class ControlPointAdmin(EffectiveAdmin):
    list_display = (*CODED, "kind", "confirmed")
    list_filter = ("kind", "confirmed", "ched_types", "valid_from", "valid_to")
    search_fields = ("code", "name_fr", "name_en", "address")
    filter_horizontal = ("ched_types",)


@admin.register(models.Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name_fr", "name_en")


class MembershipInline(admin.TabularInline):
    model = models.Membership
    fields = ("user",)
    extra = 0


@admin.register(models.Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ("name", "eori", "country", "is_active")
    search_fields = ("name", "eori")
    inlines = [MembershipInline]
    # a webhook address typed without a scheme is an https one (Django 6's default; no deprecation warning)
    formfield_overrides = {URLField: {"assume_scheme": "https"}}


@admin.register(models.StaffPost)
class StaffPostAdmin(admin.ModelAdmin):
    list_display = ("user", "bcp")
    list_filter = ("bcp",)
    autocomplete_fields = ("user",)


@admin.register(models.DestinationRequirement)
class DestinationRequirementAdmin(admin.ModelAdmin):
    """The destination's import requirements (exports), kept by the post with their sources."""

    list_display = ("code", "destination_country", "hs_prefix", "kind", "read", "valid_from", "valid_to", "checked_on")
    list_filter = ("destination_country", "kind", "read")
    search_fields = ("code", "hs_prefix", "text_fr", "text_en", "legal_reference")
    formfield_overrides = {URLField: {"assume_scheme": "https"}}  # a source typed without a scheme
