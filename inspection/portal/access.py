"""Who may see what in the portal: an importer sees their company's consignments only (another company's is
a 404); staff see all."""

from django.shortcuts import get_object_or_404

from inspection.roles import Role, user_roles
from inspection.selectors import consignment_with_part_one, consignments_visible_to


def is_importer(user) -> bool:
    return Role.IMPORTER in user_roles(user)


def uses_the_api(user) -> bool:
    """An operator company's user whose systems call the API: an importer or an exporter."""
    return bool(user_roles(user) & {Role.IMPORTER, Role.EXPORTER})


def visible_consignment(request, reference):
    return get_object_or_404(consignment_with_part_one(consignments_visible_to(request.user)), reference=reference)
