"""`python manage.py restore FILE`: a backup made by `manage.py backup`, into an empty database (PostgreSQL: a new
one made with createdb) and an empty private files folder; every checksum is checked before anything is loaded,
and the audit trail is verified at the end. Exit 1 with a sentence on failure."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inspection.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup into an empty database and private files folder, then verify the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive written by `manage.py backup`")
        parser.add_argument("--no-verify", action="store_true", help="skip the audit trail verification")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, no_verify=False, no_progress=False, **options):
        bars = []

        def progress_start(total):
            bars.append(
                tqdm(total=total, unit="B", unit_scale=True, disable=no_progress or None, file=self.stderr._out)
            )
            return bars[-1].update

        try:
            manifest = backup_restore(Path(file), progress_start=progress_start)
        except BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        finally:
            for bar in bars:
                bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {manifest['created']}: the {manifest['database']['engine']} database and "
                f"{len(manifest['files']) - 1} private files."
            )
        )
        if not no_verify:
            call_command("verify_audit", no_progress=no_progress, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write("Next: `python manage.py migrate` if this code is newer than the backup.")
