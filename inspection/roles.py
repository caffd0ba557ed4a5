"""Roles are Django groups (created by a data migration). A user's role decides what they may see and do."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import CharField, Value
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    IMPORTER = "importer", _("Importer")
    INSPECTOR = "inspector", _("Inspector")
    CERTIFYING_OFFICER = "certifying_officer", _("Certifying officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    LAB = "lab", _("Laboratory")
    # the customs system (read-only): a CHED's decision by its number or MRN, nothing else (docs/api.md)
    CUSTOMS = "customs", _("Customs")
    ADMIN = "admin", _("Administrator")
    EXPORTER = "exporter", _("Exporter")


STAFF_ROLES = {Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR, Role.ADMIN}


class Step(models.TextChoices):
    """The steps of an inspection that a person performs (README, "The inspection workflow"), as `STEP_ROLES` gives
    them to roles."""

    DOCUMENTARY_CHECK = "documentary_check", _("Documentary check")
    IDENTITY_CHECK = "identity_check", _("Identity check")
    PHYSICAL_CHECK = "physical_check", _("Physical check and sampling")
    DECISION = "decision", _("Decision")
    COUNTERSIGN = "countersign", _("Countersign the refusal")
    ESCALATION = "escalation", _("Escalation")  # a late lab result, a late documentary check or follow-up
    FOLLOW_UP = "follow_up", _("Follow-up (Part III)")
    ARRIVAL_CONFIRMATION = "arrival_confirmation", _("Arrival confirmed at the control point")


# Who performs each step: the one map that the flow's task permissions, the task lists' "claim" and the
# services' checks all read (docs/decisions/0008). A superuser or an administrator holds none of these
# roles by being one: staff administration is not inspection.
STEP_ROLES: dict[Step, Role] = {
    Step.DOCUMENTARY_CHECK: Role.INSPECTOR,
    Step.IDENTITY_CHECK: Role.INSPECTOR,
    Step.PHYSICAL_CHECK: Role.INSPECTOR,
    Step.DECISION: Role.CERTIFYING_OFFICER,
    Step.COUNTERSIGN: Role.SUPERVISOR,
    Step.ESCALATION: Role.SUPERVISOR,
    Step.FOLLOW_UP: Role.INSPECTOR,
    # the receiving side's authority; in this single-post service, the post's inspectors (assumed,
    # docs/regulation.md section 12)
    Step.ARRIVAL_CONFIRMATION: Role.INSPECTOR,
}


def _load_roles_and_permissions(user) -> None:
    """The user's roles (group names) and permissions (direct or through a group, as `app_label.codename`),
    in one query, cached on the user for the request as `user_roles` and Django's `ModelBackend` cache them
    (a request needs both: the flow's views check permissions, the services roles)."""
    through_groups = (
        Group.objects.filter(user=user)
        .order_by()
        .values_list("name", "permissions__content_type__app_label", "permissions__codename")
    )
    direct = (
        Permission.objects.filter(user=user)
        .order_by()  # a part of a UNION has none
        .values_list(Value(None, output_field=CharField()), "content_type__app_label", "codename")
    )
    rows = list(through_groups.union(direct, all=True))
    user._pif_roles = {name for name, _app, _codename in rows if name is not None}
    if user.is_superuser:
        user._pif_roles.add(Role.ADMIN)
    if not user.is_superuser:  # a superuser's are every permission (ModelBackend reads them)
        user._perm_cache = {f"{app}.{codename}" for _name, app, codename in rows if codename is not None}


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if not hasattr(user, "_pif_roles"):
        _load_roles_and_permissions(user)
    return user._pif_roles


class RoleBackend(ModelBackend):
    """Django's `ModelBackend`, whose permissions of a user are read with the user's roles, in one query
    instead of three (direct permissions, group permissions, group names)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj=obj)
        if not hasattr(user_obj, "_perm_cache"):
            _load_roles_and_permissions(user_obj)
        return user_obj._perm_cache


def primary_role(user) -> str:
    """The role written in the audit trail: the most senior one the user holds."""
    roles = user_roles(user)
    for role in (
        Role.ADMIN,
        Role.SUPERVISOR,
        Role.CERTIFYING_OFFICER,
        Role.INSPECTOR,
        Role.LAB,
        Role.CUSTOMS,
        Role.IMPORTER,
        Role.EXPORTER,
    ):
        if role in roles:
            return role
    return "system" if user is None else "none"


def is_staff_user(user) -> bool:
    return bool(user_roles(user) & STAFF_ROLES)


def may_perform(user, step: Step) -> bool:
    """Whether `user` holds the role that performs `step` (`STEP_ROLES`); being a superuser is not enough."""
    return STEP_ROLES[step] in user_roles(user)
