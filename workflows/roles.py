"""The flow's side of the map from step to role (`inspection.roles.STEP_ROLES`): the permission a step's
tasks carry, the group permissions each role holds (applied after every `migrate`: the permissions of a
proxy model only exist once Django's own post-migrate step has run), and the human task whose claim
follows the map."""

from django.contrib.auth.models import Group, Permission

from inspection.roles import STEP_ROLES, Role, Step, may_perform

from .engine import HumanTask

# The one permission of each role that performs steps, carried by its steps' tasks (`owner_permission`).
ROLE_STEP_PERMISSION = {
    Role.INSPECTOR: "can_check",
    Role.CERTIFYING_OFFICER: "can_decide",
    Role.SUPERVISOR: "can_supervise",
}
# see the flows (inspection, export); cancel, undo
FLOW_VIEW = ["view_inspectionprocess", "view_exportprocess"]
FLOW_MANAGE = ["manage_inspectionprocess", "manage_exportprocess"]


def step_permission(step: Step) -> str:
    """The permission that the tasks of `step` carry: the one of the role that performs it."""
    return f"workflows.{ROLE_STEP_PERMISSION[STEP_ROLES[step]]}"


ROLE_PERMISSIONS = {
    role: [*FLOW_VIEW, codename, *(FLOW_MANAGE if role == Role.SUPERVISOR else [])]
    for role, codename in ROLE_STEP_PERMISSION.items()
}


def grant_role_permissions(**kwargs) -> None:
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="workflows", codename__in=codenames))


class StepTask(HumanTask):
    """A human task of one step (`.Permission(Step.X)`): it carries the step's permission, and only a holder
    of the step's role may claim it. viewflow's `can_assign` alone asks `has_perm`, which is always true for
    a superuser, whom every service then refuses (docs/decisions/0008)."""

    step: Step | None = None

    def Permission(self, step: Step):  # noqa: N802 (viewflow's chained-call style)
        if not isinstance(step, Step):
            raise TypeError(f"{self}: a step's permission comes from inspection.roles.STEP_ROLES, give a Step")
        self.step = step
        return super().Permission(step_permission(step))

    def can_assign(self, user, task):
        return super().can_assign(user, task) and may_perform(user, self.step)
