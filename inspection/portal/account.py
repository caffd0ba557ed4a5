"""An importer's account: which emails they get, the company's webhook, and their API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspection.errors import DomainInvalid
from inspection.services.api_tokens import api_token_create, api_token_revoke
from inspection.services.notifications import notification_choices_update, webhook_configure

from .access import is_importer, uses_the_api
from .forms import ApiTokenForm, NotificationChoicesForm, WebhookForm


@login_required
def notification_settings(request):
    """Each user chooses which emails they get; the company's webhook is set by any of its users."""
    if not is_importer(request.user) or not hasattr(request.user, "membership"):
        raise Http404
    membership = request.user.membership
    choices = NotificationChoicesForm(initial={"kinds": membership.notification_kinds})
    webhook = WebhookForm(initial={"webhook_url": membership.operator.webhook_url})
    if request.method == "POST":
        try:
            if "save_choices" in request.POST:
                choices = NotificationChoicesForm(request.POST)
                if choices.is_valid():
                    notification_choices_update(actor=request.user, kinds=choices.cleaned_data["kinds"])
                    messages.success(request, _("Your email choices are saved."))
                    return redirect("portal:notification-settings")
            else:
                webhook = WebhookForm(request.POST)
                if webhook.is_valid():
                    webhook_configure(
                        actor=request.user,
                        url=webhook.cleaned_data["webhook_url"],
                        new_secret=webhook.cleaned_data["new_secret"],
                    )
                    messages.success(request, _("The company's webhook is saved."))
                    return redirect("portal:notification-settings")
        except DomainInvalid as exc:
            for errors in exc.errors.values():
                webhook.add_error(None, " ".join(errors))
    membership.operator.refresh_from_db()
    return render(
        request,
        "portal/notification_settings.html",
        {"choices": choices, "webhook": webhook, "operator": membership.operator},
    )


@login_required
def api_tokens(request):
    """The user's API tokens: make one per system (its key is shown once), revoke any."""
    if not uses_the_api(request.user):
        raise Http404
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainInvalid as exc:
            for errors in exc.errors.values():
                form.add_error("name", " ".join(errors))
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "portal/api_tokens.html",
        {"form": form, "new_key": new_key, "tokens": request.user.api_tokens.all()},
    )
    response["Cache-Control"] = "no-store"  # the page may show a key
    return response


@login_required
@require_POST
def api_token_revoke_view(request, token_id):
    token = get_object_or_404(request.user.api_tokens, pk=token_id)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("portal:api-tokens")
