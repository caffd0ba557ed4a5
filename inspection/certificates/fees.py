"""The fee statement of a consignment as a PDF (Regulation (EU) 2017/625, art. 79), rendered on request from
the statement stored on the decision (`Decision.fee_*`), with the certificates' renderer and style: the
amounts never change once stated, so the PDF does not either."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import translation

from inspection.models import Decision, FeeCategory
from inspection.selectors import fees_visible_to

from .documents import bi, named
from .render import render_pdf
from .views import _user_from_token


def fee_statement_html(statement: Decision) -> str:
    consignment = statement.consignment
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "certificates/fees.html",
            {
                "statement": statement,
                "c": consignment,
                "lines": statement.fee_lines,
                "bcp": named(consignment.bcp),
                "ched_type": named(consignment.ched_type),
                "category": bi(FeeCategory(statement.fee_category).label),
            },
        )


def fee_statement_download(request, reference):
    """The PDF, as an attachment: the company's users (browser session or API token) and staff."""
    user = _user_from_token(request)
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # staff once drawn, the company's users once the decision is in force; anyone else a 404
    statement = get_object_or_404(
        fees_visible_to(user).select_related("consignment__bcp", "consignment__operator"),
        consignment__reference=reference,
    )
    response = HttpResponse(render_pdf(fee_statement_html(statement)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{reference}-fees.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
