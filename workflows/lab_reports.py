"""Labs' reports, for staff only, as attachments: a lab's PDF is never rendered in the site's origin. Anyone
else gets a 404, as for a consignment they may not see."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from inspection.downloads import lab_report_response
from inspection.models import LabResult
from inspection.roles import is_staff_user


def lab_report(request, pk):
    if not is_staff_user(request.user):
        raise Http404
    return lab_report_response(get_object_or_404(LabResult.objects.select_related("sample"), pk=pk))
