from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .notifications import all_notification_kinds


class Operator(models.Model):
    """An operator company (importer or customs broker). Its users see its consignments and nobody else's."""

    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"))
    country = CountryField(_("country"), default="FR")
    eori = models.CharField(_("EORI number"), max_length=17, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    webhook_url = models.URLField(_("webhook URL"), blank=True, help_text=_("Receives a signed POST on each event."))
    webhook_secret = models.CharField(_("webhook secret"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("operator")

    def __str__(self):
        return self.name


class Membership(models.Model):
    """Ties an importer user to its operator company."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="memberships")
    notification_kinds = models.JSONField(_("emails wanted"), default=all_notification_kinds, blank=True)

    class Meta:
        verbose_name = _("membership")

    def __str__(self):
        return f"{self.user} @ {self.operator}"


class StaffPost(models.Model):
    """The border control post a member of staff works at: their home page lists its arrivals."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_post")
    bcp = models.ForeignKey("inspection.Bcp", on_delete=models.PROTECT, related_name="+", verbose_name=_("BCP"))

    class Meta:
        verbose_name = _("staff post")

    def __str__(self):
        return f"{self.user} @ {self.bcp}"
