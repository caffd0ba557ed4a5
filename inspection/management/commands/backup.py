"""`python manage.py backup FILE`: the database and the private files in one tar archive (FILE ending in .tar.gz or
.tgz is compressed), with manifest.json listing each file's size and SHA-256. Exit 1 with a sentence on failure."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inspection.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the private files into one tar archive with a manifest of checksums."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive to write (must not exist); .tar.gz or .tgz to compress")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, no_progress=False, **options):
        bars = []

        def progress_start(total):
            bars.append(
                tqdm(total=total, unit="B", unit_scale=True, disable=no_progress or None, file=self.stderr._out)
            )
            return bars[-1].update

        self.stderr.write("Dumping the database…")
        try:
            manifest = backup_create(Path(file), progress_start=progress_start)
        except BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        finally:
            for bar in bars:
                bar.close()
        size = sum(entry["size"] for entry in manifest["files"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {file}: the {manifest['database']['engine']} database and "
                f"{len(manifest['files']) - 1} private files, {size:,} bytes."
            )
        )
