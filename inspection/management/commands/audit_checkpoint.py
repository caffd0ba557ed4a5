"""`python manage.py audit_checkpoint [--no-email]`: record the audit chain's head now, in the database and as
a signed file of the witness folder (`PIF_AUDIT_WITNESS_DIR`), and email it to the supervisors. Beat does
the same every hour (the email once a day)."""

from django.core.management.base import BaseCommand

from inspection.services.audit import audit_checkpoint_record


class Command(BaseCommand):
    help = "Record the audit chain's head: in the database, signed in the witness folder, and by email."

    def add_arguments(self, parser):
        parser.add_argument("--no-email", action="store_true", help="do not email it to the supervisors")

    def handle(self, *args, no_email=False, **options):
        checkpoint = audit_checkpoint_record(email=not no_email)
        self.stdout.write(f"audit checkpoint {checkpoint.published} written to {checkpoint.witness_path}")
