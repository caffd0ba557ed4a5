"""Which workflow permissions each role's group holds. Applied after every `migrate` (the permissions of
a proxy model only exist once Django's own post-migrate step has run)."""

from django.contrib.auth.models import Group, Permission

ROLE_PERMISSIONS = {
    "inspector": ["view_inspectionprocess", "can_check"],
    "certifying_officer": ["view_inspectionprocess", "can_decide"],
    "supervisor": ["view_inspectionprocess", "can_supervise", "manage_inspectionprocess"],
}


def grant_role_permissions(**kwargs) -> None:
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="workflows", codename__in=codenames))
