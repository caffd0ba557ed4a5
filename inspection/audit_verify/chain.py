"""Verifying the whole chain (`verify_audit`): from the start or from a published checkpoint to the head,
compared with the stored checkpoints and the witness ones; the first fault met, or none."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from inspection.audit_chain import GENESIS, is_hash
from inspection.models import AuditCheckpoint, AuditEvent

from .faults import ChainFault, Checkpoint
from .walk import Position, walk, walk_in_ranges


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_seq: int
    head_hash: str
    fault: ChainFault | None

    @property
    def intact(self) -> bool:
        return self.fault is None


def audit_chain_verify(
    *,
    since: tuple[int, str] | None = None,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    range_size: int = 100_000,
    witness: Iterable = (),
) -> ChainReport:
    """Check the chain from the start, or from a published checkpoint `since` = (seq, hash), up to its head.
    Returns the first fault met, or none. `progress(n)` is called as events are checked.

    With `workers` > 1 the events are split into id ranges of `range_size`, scanned by that many processes;
    the ranges are then taken in chain order, each linked to the last event of the one before (one
    comparison), and the first range that holds a fault, or does not link, is walked again here from its start
    to name the fault, exactly as a walk from the beginning would have. Inside a transaction, or on an
    in-memory SQLite database, the ranges are scanned in this process (other processes would not see the
    same events).

    `witness`: the checkpoints read from the witness files (`audit_witness.witness_read`), already checked
    against their signature; at a position that both hold, a witness checkpoint prevails over the database's."""
    checkpoints = {
        c.seq: Checkpoint(c.seq, c.event_hash, _("the checkpoint of %(at)s") % {"at": c.recorded_at})
        for c in AuditCheckpoint.objects.order_by("seq")
    }
    for w in witness:
        name = _("the witness checkpoint %(file)s (%(at)s)") % {"file": w.path, "at": w.recorded_at}
        checkpoints[w.seq] = Checkpoint(w.seq, w.event_hash, name)
    at = Position(1, GENESIS)
    after_id = 0
    if since is not None:
        anchor_seq, anchor_hash = since
        if not is_hash(anchor_hash):  # it links the first event checked: `walk` relies on its being a hash
            raise ValueError("a checkpoint's hash is 64 lowercase hex digits")
        anchor = AuditEvent.objects.filter(seq=anchor_seq).values_list("id", "event_hash").first()
        if anchor_seq and anchor is None:
            fault = ChainFault(
                "deleted",
                _("The checkpoint's event (position %(seq)s) is missing.") % {"seq": anchor_seq},
                None,
                anchor_seq,
            )
            return ChainReport(0, anchor_seq, anchor_hash, fault)
        if anchor_seq and anchor[1] != anchor_hash:
            fault = ChainFault(
                "rewritten",
                _("Event %(id)s (position %(seq)s) does not have the checkpoint's hash: the chain was rewritten.")
                % {"id": anchor[0], "seq": anchor_seq},
                anchor[0],
                anchor_seq,
            )
            return ChainReport(0, anchor_seq, anchor_hash, fault)
        if anchor_seq:
            after_id = anchor[0]
        at = Position(anchor_seq + 1, anchor_hash)
    fault = None
    if workers > 1:
        at, fault = walk_in_ranges(after_id, at, checkpoints, chunk_size, progress, workers, range_size)
    else:
        at, fault = walk(AuditEvent.objects.filter(id__gt=after_id), at, checkpoints, chunk_size, progress)
    head_seq = at.expected_seq - 1
    if fault is not None:
        return ChainReport(at.checked, head_seq, at.expected_prev, fault)
    beyond = sorted((c for c in checkpoints.values() if c.seq > head_seq), key=lambda c: c.seq)
    if beyond:
        checkpoint = beyond[-1]  # the latest
        fault = ChainFault(
            "truncated",
            _(
                "The chain ends at position %(head)s but %(checkpoint)s names position %(seq)s: "
                "the last events were deleted."
            )
            % {"head": head_seq, "checkpoint": checkpoint.name, "seq": checkpoint.seq},
            None,
            head_seq + 1,
        )
    return ChainReport(at.checked, head_seq, at.expected_prev, fault)
