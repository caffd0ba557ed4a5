"""Roles are Django groups (created by a data migration). A user's role decides what they may see and do."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    IMPORTER = "importer", _("Importer")
    INSPECTOR = "inspector", _("Inspector")
    CERTIFYING_OFFICER = "certifying_officer", _("Certifying officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    LAB = "lab", _("Laboratory")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = {Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR, Role.ADMIN}


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if not hasattr(user, "_pif_roles"):
        user._pif_roles = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            user._pif_roles.add(Role.ADMIN)
    return user._pif_roles


def primary_role(user) -> str:
    """The role written in the audit trail: the most senior one the user holds."""
    roles = user_roles(user)
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.CERTIFYING_OFFICER, Role.INSPECTOR, Role.LAB, Role.IMPORTER):
        if role in roles:
            return role
    return "system" if user is None else "none"


def is_staff_user(user) -> bool:
    return bool(user_roles(user) & STAFF_ROLES)
