"""Who may act. Each service calls one of these before it changes anything."""

from django.utils.translation import gettext as _

from inspection.errors import NotPermitted
from inspection.roles import STEP_ROLES, Role, Step, user_roles


def require_role(actor, *roles: str) -> None:
    if not user_roles(actor) & set(roles):
        labels = ", ".join(str(Role(r).label) for r in roles)
        raise NotPermitted(_("This step needs one of these roles: %(roles)s.") % {"roles": labels})


def require_step(actor, step: Step) -> None:
    """The actor holds the role that performs `step` (`STEP_ROLES`, which the flow's tasks follow too)."""
    require_role(actor, STEP_ROLES[step])
