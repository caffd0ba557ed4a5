"""Fees for the official controls of a consignment (Regulation (EU) 2017/625, art. 79 and Annex IV, Chapter II;
docs/regulation.md, section 10): the schedule, reference data with effective dates. The statement of a
consignment is drawn when the officer decides and stored on the decision (`Decision.fee_*`)."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .reference import Bilingual, ChedType, Effective


class FeeCategory(models.TextChoices):
    """The categories of Annex IV, Chapter II (points I to VII), and the controls charged at cost
    (art. 79(2)(a) and art. 82) for the goods that chapter does not list."""

    LIVE_ANIMALS_LISTED = "I.a", _("Live animals: bovine, equidae, pigs, sheep, goats, poultry, rabbits, game")
    LIVE_ANIMALS_OTHER = "I.b", _("Live animals of other species")
    MEAT = "II", _("Meat")
    FISHERY_PRODUCTS = "III", _("Fishery products")
    MEAT_PRODUCTS = "IV", _("Meat products, poultry meat, game and rabbit meat")
    OTHER_ANIMAL_PRODUCTS = "V", _("Other products of animal origin for human consumption")
    ANIMAL_BY_PRODUCTS = "VI", _("Animal by-products and feed of animal origin")
    TRANSIT = "VII", _("Transit")
    AT_COST = "cost", _("Controls charged at cost")


class FeeCheck(models.TextChoices):
    """What a fee line charges: the consignment as a whole, or one kind of check done."""

    CONSIGNMENT = "consignment", _("Consignment")
    DOCUMENTARY = "documentary", _("Documentary check")
    IDENTITY = "identity", _("Identity check")
    PHYSICAL = "physical", _("Physical check")
    LABORATORY = "laboratory", _("Laboratory analysis (per sample)")


class FeeRate(Bilingual, Effective):
    """One line of the fee schedule: for a CHED type and a category, the amount for a weight band (the first
    band whose `up_to_tonnes` holds the consignment's weight; none is the last band) or for a check done.
    The amount is `fixed_eur` plus `per_tonne_eur` for each tonne. `source`: the text and point it comes from."""

    ched_type = models.ForeignKey(ChedType, on_delete=models.PROTECT, related_name="+", verbose_name=_("CHED type"))
    category = models.CharField(_("category"), max_length=10, choices=FeeCategory.choices)
    charges = models.CharField(_("charges"), max_length=20, choices=FeeCheck.choices, default=FeeCheck.CONSIGNMENT)
    up_to_tonnes = models.DecimalField(
        _("up to (tonnes)"), max_digits=10, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    fixed_eur = models.DecimalField(
        _("fixed amount (EUR)"), max_digits=10, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    per_tonne_eur = models.DecimalField(
        _("amount per tonne (EUR)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0)],
    )
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["ched_type", "category", "charges", "up_to_tonnes"]
        verbose_name = _("fee rate")
        verbose_name_plural = _("fee schedule")

    def __str__(self):
        band = f" ≤ {self.up_to_tonnes} t" if self.up_to_tonnes is not None else ""
        return f"{self.ched_type} {self.category} {self.charges}{band}: {self.fixed_eur} + {self.per_tonne_eur}/t"
