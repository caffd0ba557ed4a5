"""Sample labels: the sample number as text and as a QR code, sized for a label printer; `?format=pdf` gives
the PDF label (100 × 62 mm) from `templates/certificates/label.html`."""

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from inspection.certificates.documents import label_html
from inspection.certificates.render import render_pdf
from inspection.models import Sample
from inspection.roles import is_staff_user


@login_required
def sample_label(request, number):
    if not is_staff_user(request.user):
        raise Http404
    sample = get_object_or_404(Sample.objects.select_related("consignment", "analysis", "laboratory"), number=number)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(render_pdf(label_html(sample)), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{sample.number}.pdf"'
        return response
    qr = segno.make(sample.number, error="m").svg_inline(scale=4, border=1)
    return render(request, "workflows/sample_label.html", {"sample": sample, "qr": qr})
