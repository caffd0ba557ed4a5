"""`manage.py sweep_files`: delete the private files that no row records (documents, photos, certificates, lab
reports left by a process that died mid-transaction), once older than PIF_FILE_SWEEP_GRACE_SECONDS. Beat runs
it daily; `--dry-run` lists them only."""

from django.core.management.base import BaseCommand

from inspection.services.files import files_unrecorded_delete


class Command(BaseCommand):
    help = "Delete the private files that no row records (older than PIF_FILE_SWEEP_GRACE_SECONDS)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the files; delete nothing.")

    def handle(self, *args, dry_run=False, **options):
        orphans = files_unrecorded_delete(dry_run=dry_run)
        for name in orphans:
            self.stdout.write(name)
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(self.style.SUCCESS(f"{len(orphans)} file(s) no row records {verb}."))
