"""The certifying officer's decision on an export application (issue the phytosanitary certificate or refuse
it), and the issue of the certificate so decided, which the export flow's job runs after commit: rendering and
signing take time, and a failure there is retried without asking the officer to decide again."""

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.errors import TransitionNotAllowed
from inspection.models import ExportApplication, ExportStatus, PhytosanitaryCertificate
from inspection.roles import Role
from inspection.services.exports import export_audit, export_may_issue, export_refuse
from inspection.services.permissions import require_role
from inspection.services.phyto import phyto_certificate_issue


@atomic_service
def export_decision_record(
    *, actor, application: ExportApplication, issue: bool, reason: str = ""
) -> ExportApplication:
    """A certifying officer decides on the application: the certificate is refused, with the reason the exporter
    reads (`export_refuse`), or it is to be issued, which needs a satisfactory documentary check and inspection
    (ISPM 12: the certifying statement rests on them; ISPM 7). The certificate is then issued in the officer's
    name by `export_certificate_issue`."""
    if not issue:
        return export_refuse(actor=actor, application=application, reason=reason)
    require_role(actor, Role.CERTIFYING_OFFICER)
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    if application.status != ExportStatus.CHECKING or application.decided_by_id is not None:
        raise TransitionNotAllowed(
            _("This application is %(status)s: no certificate can be issued.")
            % {"status": application.get_status_display().lower()}
        )
    export_may_issue(application)
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["decided_at", "decided_by", "updated_at"])
    export_audit(actor=actor, action=AuditAction.EXPORT_ISSUE_DECIDED, application=application)
    return application


@atomic_service
def export_certificate_issue(*, application: ExportApplication) -> PhytosanitaryCertificate:
    """Issue the certificate the certifying officer decided (`export_decision_record`), in their name: the
    signed PDF and its ePhyto XML (`phyto_certificate_issue`). Once: run again (a job delivered twice), it finds
    the certificate issued and returns it."""
    application = (
        ExportApplication.objects.select_for_update(of=("self",), no_key=True)
        .select_related("decided_by")
        .get(pk=application.pk)
    )
    if application.status == ExportStatus.ISSUED:
        return application.certificates.order_by("issued_at", "pk").first()
    if application.decided_by is None:
        raise TransitionNotAllowed(_("No certifying officer has decided to issue this certificate."))
    return phyto_certificate_issue(actor=application.decided_by, application=application)
