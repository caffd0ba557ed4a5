"""Who may act. Each service calls one of these before it changes anything."""

from django.utils.translation import gettext as _

from inspection.errors import NotPermitted
from inspection.roles import Role, user_roles


def require_role(actor, *roles: str) -> None:
    if not user_roles(actor) & set(roles):
        labels = ", ".join(str(Role(r).label) for r in roles)
        raise NotPermitted(_("This step needs one of these roles: %(roles)s.") % {"roles": labels})
