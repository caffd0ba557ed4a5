"""Check photos, for staff only: internal evidence, like the inspectors' notes. Anyone else gets a 404, as
for a consignment they may not see."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from inspection.downloads import check_photo_response
from inspection.models import CheckPhoto
from inspection.roles import is_staff_user


def check_photo(request, pk):
    if not is_staff_user(request.user):
        raise Http404
    return check_photo_response(get_object_or_404(CheckPhoto, pk=pk))
