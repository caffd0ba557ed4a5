"""`python manage.py verify_audit [--since SEQ[:HASH]] [--workers N]`: exit 0 when the audit chain is intact,
1 naming the first bad event and what is wrong with it, 2 when the checkpoint given is unusable."""

import argparse
import os
import re

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inspection.audit_chain import GENESIS, is_hash
from inspection.audit_verify import audit_chain_verify
from inspection.models import AuditCheckpoint, AuditEvent

EXIT_TAMPERED, EXIT_USAGE = 1, 2
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)


def _workers(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("a whole number, at least 1")
    return int(value)


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail (from the start, or from a published checkpoint)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            metavar="SEQ[:HASH]",
            help="start from a checkpoint: the position and hash as emailed to the supervisors "
            "(without the hash, the checkpoint stored for that position)",
        )
        parser.add_argument("--chunk-size", type=int, default=20_000, help="events fetched per round trip")
        parser.add_argument(
            "--workers",
            type=_workers,
            default=DEFAULT_WORKERS,
            help=f"processes verifying ranges of the chain side by side (default {DEFAULT_WORKERS}: "
            "the cores, at most 4)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, since=None, chunk_size=20_000, workers=DEFAULT_WORKERS, no_progress=False, **options):
        anchor = self._anchor(since) if since else None
        start = anchor[0] if anchor else 0
        total = AuditEvent.objects.filter(seq__gt=start).count()
        with tqdm(
            total=total, unit="event", unit_scale=True, disable=no_progress or None, file=self.stderr._out
        ) as bar:
            report = audit_chain_verify(since=anchor, chunk_size=chunk_size, progress=bar.update, workers=workers)
        if report.fault is not None:
            raise CommandError(
                f"audit trail NOT intact ({report.fault.kind}): {report.fault.message}", returncode=EXIT_TAMPERED
            )
        self.stdout.write(
            f"audit trail intact: {report.checked} events checked, head {report.head_seq}:{report.head_hash}"
        )

    def _anchor(self, since: str) -> tuple[int, str]:
        match = re.fullmatch(r"(\d+)(?::([0-9a-f]{64}))?", since.strip())
        if not match:
            raise CommandError("--since takes SEQ or SEQ:HASH (64 lowercase hex digits)", returncode=EXIT_USAGE)
        seq, published = int(match.group(1)), match.group(2)
        if published is None:
            if seq == 0:
                return 0, GENESIS
            stored = AuditCheckpoint.objects.filter(seq=seq).values_list("event_hash", flat=True).last()
            if stored is None:
                raise CommandError(f"no checkpoint is stored for position {seq}", returncode=EXIT_USAGE)
            published = stored
        assert is_hash(published)
        return seq, published
