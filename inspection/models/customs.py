from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomsSubscription(models.Model):
    """The customs system's webhook: where it is told that a decision was taken or revoked (the local
    counterpart of the EU single window's CHED exchange, docs/api.md "Customs"). Owned by a customs user;
    signed like the operators' webhooks, with its own secret."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customs_subscription")
    url = models.URLField(_("webhook URL"))
    secret = models.CharField(_("webhook secret"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customs webhook")

    def __str__(self):
        return self.url
