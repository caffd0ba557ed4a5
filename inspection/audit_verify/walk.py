"""Walking the chain: the events in id order from a position, checked one after the other, in this process
or shared out over id ranges scanned by several processes."""

import hashlib
import multiprocessing
from dataclasses import dataclass

from django.db import connection, connections
from django.db.models import Max, Min

from inspection.audit_chain import event_sealer, is_hash
from inspection.audit_key import audit_event_key
from inspection.models import AuditEvent

from .faults import ChainFault, checkpoint_fault, content_fault, link_fault, position_fault, seal_fault
from .rows import text_chunks


@dataclass(frozen=True)
class Position:
    """Where a walk along the chain stands: the next position and link it expects, the last event passed
    (id, seq, hash) and how many events it checked."""

    expected_seq: int
    expected_prev: str
    previous: tuple[int, int, str] | None = None
    checked: int = 0


def walk(queryset, at: Position, checkpoints: dict, chunk_size: int, progress) -> tuple[Position, ChainFault | None]:
    """Check the events of `queryset` in id order from position `at`: the first fault met, or none and where
    the walk ended. The one place that decides what is wrong with an event (`faults` puts it in words)."""
    expected_seq, expected_prev = at.expected_seq, at.expected_prev
    previous_id = at.previous[0] if at.previous else None
    sha256, seal = hashlib.sha256, event_sealer(audit_event_key())

    def stop(fault):
        previous = (previous_id, expected_seq - 1, expected_prev) if previous_id is not None else None
        return Position(expected_seq, expected_prev, previous, at.checked + expected_seq - at.expected_seq), fault

    for chunk in text_chunks(queryset, chunk_size):
        for row_id, seq, prev, stored, text, mac, body in chunk:
            # The common case first: in place, linked, and matching its hash (a `prev` equal to the hash of the
            # event before is a hash: it was checked then), then sealed with the audit key (`audit_chain.event_mac`).
            if seq == expected_seq and prev == expected_prev and sha256(text.encode()).hexdigest() == stored:
                if sha256((seal(body) + stored).encode()).hexdigest() != mac:
                    return stop(seal_fault(row_id, seq, stored))
                if seq in checkpoints and checkpoints[seq].event_hash != stored:
                    return stop(checkpoint_fault(row_id, seq, checkpoints[seq]))
                expected_seq, expected_prev, previous_id = seq + 1, stored, row_id
                continue
            previous = (previous_id, expected_seq - 1, expected_prev) if previous_id is not None else None
            if sha256(text.encode()).hexdigest() != stored or not is_hash(prev):
                return stop(content_fault(row_id, previous))
            if seq != expected_seq:
                return stop(position_fault(row_id, seq, expected_seq, previous))
            return stop(link_fault(row_id, seq))
        if progress is not None:
            progress(len(chunk))
    return stop(None)


@dataclass(frozen=True)
class _RangeScan:
    """One id range walked on its own, from its first event: that event's (seq, prev_hash), where the walk
    ended, and whether it met a fault (named again by the caller, in chain order)."""

    first: tuple[int, str] | None
    end: Position | None
    sound: bool


def _scan_range(lo: int, hi: int, chunk_size: int, checkpoints: dict) -> _RangeScan:
    """The events of one id range walked by `walk` from the range's first event; its link to the range
    before is for the caller to check."""
    events = AuditEvent.objects.filter(id__gte=lo, id__lte=hi)
    first = events.order_by("id").values_list("seq", "prev_hash").first()
    if first is None:
        return _RangeScan(None, None, True)
    end, fault = walk(events, Position(*first), checkpoints, chunk_size, None)
    return _RangeScan(first, end, fault is None)


def _scan_range_in_worker(args) -> _RangeScan:
    try:
        return _scan_range(*args)
    finally:
        connections.close_all()  # this process's own connection, opened for the range


def _shareable() -> bool:
    """Whether other processes can read what this connection reads: not inside a transaction (they would not
    see its changes; the tests' case) nor from an in-memory SQLite database."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.creation.is_in_memory_db(connection.settings_dict["NAME"]))


def _scans(ranges, chunk_size, checkpoints, workers):
    """Each range's scan, in order: by a pool of forked processes, each with its own connection, or here."""
    jobs = [(lo, hi, chunk_size, checkpoints) for lo, hi in ranges]
    if not _shareable():
        yield from (_scan_range(*job) for job in jobs)
        return
    connections.close_all()  # a forked child must not share this process's connection; each opens its own
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_scan_range_in_worker, jobs)


def walk_in_ranges(after_id, at, checkpoints, chunk_size, progress, workers, range_size):
    """`walk` over the events after `after_id`, with the ranges scanned in parallel (see `audit_chain_verify`).
    The events appended after the verification started are left for the next one."""
    bounds = AuditEvent.objects.filter(id__gt=after_id).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return at, None
    ranges = [(lo, min(lo + range_size - 1, bounds["hi"])) for lo in range(bounds["lo"], bounds["hi"] + 1, range_size)]
    if len(ranges) == 1:
        return walk(AuditEvent.objects.filter(id__gt=after_id), at, checkpoints, chunk_size, progress)
    scans = _scans(ranges, chunk_size, checkpoints, workers)
    try:
        for (lo, _hi), scan in zip(ranges, scans, strict=True):
            if scan.first is None:
                continue
            if not scan.sound or scan.first != (at.expected_seq, at.expected_prev):
                faulty = lo
                break
            count = scan.end.expected_seq - at.expected_seq
            at = Position(scan.end.expected_seq, scan.end.expected_prev, scan.end.previous, at.checked + count)
            if progress is not None:
                progress(count)
        else:
            return at, None
    finally:
        scans.close()  # stops the workers still scanning the ranges after a fault
    # The fault is in this range, or at its link to the one before: name it as a walk from the start would.
    return walk(AuditEvent.objects.filter(id__gte=faulty), at, checkpoints, chunk_size, progress)
