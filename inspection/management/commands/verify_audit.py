"""`python manage.py verify_audit [--since SEQ[:HASH]] [--witness PATH] [--workers N]`: exit 0 when the audit
chain is intact, 1 naming the first bad event and what is wrong with it (or a witness file that is not a
checkpoint signed with the audit key), 2 when the checkpoint given is unusable. The chain is compared with the
checkpoints stored in the database and with the signed ones of the witness folder (`PIF_AUDIT_WITNESS_DIR`) and
of every `--witness` file or folder."""

import argparse
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inspection.audit_chain import GENESIS, is_hash
from inspection.audit_verify import audit_chain_verify
from inspection.audit_witness import witness_read
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
            "(without the hash, the witness or stored checkpoint of that position)",
        )
        parser.add_argument(
            "--witness",
            metavar="PATH",
            action="append",
            default=[],
            help="a witness checkpoint file, or a folder of them (repeatable), besides PIF_AUDIT_WITNESS_DIR",
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

    def handle(
        self,
        *args,
        since=None,
        witness=(),
        chunk_size=20_000,
        workers=DEFAULT_WORKERS,
        no_progress=False,
        **options,
    ):
        folder = Path(settings.PIF_AUDIT_WITNESS_DIR)
        witnessed, problems = witness_read([*([folder] if folder.is_dir() else []), *witness])
        if not witnessed and not problems:
            self.stderr.write(
                f"warning: no witness checkpoint in {folder}: a deleted tail would go unnoticed "
                "(beat writes one every hour; `manage.py audit_checkpoint` writes one now)"
            )
        anchor = self._anchor(since, witnessed) if since else None
        start = anchor[0] if anchor else 0
        total = AuditEvent.objects.filter(seq__gt=start).count()
        with tqdm(
            total=total, unit="event", unit_scale=True, disable=no_progress or None, file=self.stderr._out
        ) as bar:
            report = audit_chain_verify(
                since=anchor, chunk_size=chunk_size, progress=bar.update, workers=workers, witness=witnessed
            )
        faults = [f"({report.fault.kind}): {report.fault.message}"] if report.fault is not None else []
        faults += [f"(witness): {problem}" for problem in problems]
        if faults:
            raise CommandError(
                "\n".join(f"audit trail NOT intact {fault}" for fault in faults), returncode=EXIT_TAMPERED
            )
        self.stdout.write(
            f"audit trail intact: {report.checked} events checked, head {report.head_seq}:{report.head_hash}"
        )

    def _anchor(self, since: str, witnessed) -> tuple[int, str]:
        match = re.fullmatch(r"(\d+)(?::([0-9a-f]{64}))?", since.strip())
        if not match:
            raise CommandError("--since takes SEQ or SEQ:HASH (64 lowercase hex digits)", returncode=EXIT_USAGE)
        seq, published = int(match.group(1)), match.group(2)
        if published is None:
            if seq == 0:
                return 0, GENESIS
            signed = [w.event_hash for w in witnessed if w.seq == seq]
            stored = signed[-1] if signed else None
            if stored is None:
                stored = AuditCheckpoint.objects.filter(seq=seq).values_list("event_hash", flat=True).last()
            if stored is None:
                raise CommandError(f"no checkpoint is stored for position {seq}", returncode=EXIT_USAGE)
            published = stored
        assert is_hash(published)
        return seq, published
