from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Inspection workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .roles import grant_role_permissions

        post_migrate.connect(grant_role_permissions, sender=self, dispatch_uid="workflows.grant_role_permissions")
