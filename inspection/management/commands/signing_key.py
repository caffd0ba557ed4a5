"""`manage.py signing_key`: a self-signed key and certificate for signing certificates in development and
the demo, at PIF_SIGNING_KEY and PIF_SIGNING_CERT. Production uses a certificate from a real PKI."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inspection.certificates.signing import signing_key_create


class Command(BaseCommand):
    help = "Create a self-signed signing key and certificate (development and demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--replace", action="store_true", help="Replace an existing pair.")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument("--common-name", default="PIF Martinique – certificat de démonstration")

    def handle(self, *args, replace=False, force=False, common_name="", **options):
        key, cert = Path(settings.PIF_SIGNING_KEY), Path(settings.PIF_SIGNING_CERT)
        if key.exists() and cert.exists() and not replace:
            self.stdout.write(f"Signing key already present: {key} (use --replace to replace it).")
            return
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: a self-signed key has no place in production. Use --force to insist.")
        signing_key_create(key, cert, common_name=common_name)
        self.stdout.write(self.style.SUCCESS(f"Self-signed signing key written to {key} and {cert}."))
