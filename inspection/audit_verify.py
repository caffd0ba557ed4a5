"""Verifying the audit chain: walk the events in the order they are stored (id), recompute each hash from
the text the database returns, follow the links and the positions, and compare with the checkpoints.
Streams the table; Python puts each canonical text together from the columns and hashes it; several
processes can share the work over id ranges (bench/bench_audit.py)."""

import hashlib
import json
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, connections
from django.db.models import Max, Min, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from .audit_chain import GENESIS, canonical_time, event_text, is_hash
from .models import AuditCheckpoint, AuditEvent

# The canonical UTC time of an event as text (`audit_chain.canonical_time`), formatted by the database.
TIME_SQL = {
    "sqlite": "replace(occurred_at, ' ', 'T') || CASE WHEN length(occurred_at) = 19 THEN '.000000' ELSE '' END",
    "postgresql": """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
}


class _Quoted(dict):
    """Role or action -> its JSON string. They repeat: each one is escaped once per verification."""

    def __missing__(self, value):
        quoted = self[value] = json.dumps(value, ensure_ascii=False)
        return quoted


def text_chunks(queryset, chunk_size: int):
    """Lists of up to `chunk_size` (id, seq, prev_hash, event_hash, canonical text), in id order, streamed
    (a server-side cursor on PostgreSQL). The text is put together here from the stored columns
    (`audit_chain.event_text`, inlined in one comprehension: this is most of the verifier's cost, with the
    fetching); the database only returns them, the data as its stored canonical text and the time as text.
    Rows go straight from the cursor, without the ORM's per-row work."""
    time_text = RawSQL(TIME_SQL[connection.vendor], (), output_field=TextField())  # noqa: S611 (constant SQL)
    columns = ["id", "seq", "prev_hash", "event_hash", "actor_id", "role", "action", "consignment_id"]
    query = queryset.annotate(time_text=time_text).order_by("id").values_list(*columns, "time_text", "data_text")
    sql, params = query.query.sql_with_params()
    quoted = _Quoted()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield [
                (
                    row_id,
                    seq,
                    prev,
                    stored,
                    f'{{"seq": {seq}, "data": {data}, "prev": "{prev}", "role": {quoted[role]}, '
                    f'"actor": {"null" if actor is None else actor}, "action": {quoted[action]}, '
                    f'"consignment": {"null" if consignment is None else consignment}, "occurred_at": "{t}Z"}}',
                )
                for row_id, seq, prev, stored, actor, role, action, consignment, t, data in rows
            ]
            if len(quoted) > 10_000:  # a tampered chain may hold any number of distinct values
                quoted.clear()


def event_texts(queryset, chunk_size: int):
    """(id, seq, prev_hash, event_hash, canonical text) in id order, streamed."""
    for chunk in text_chunks(queryset, chunk_size):
        yield from chunk


@dataclass(frozen=True)
class ChainFault:
    """The first thing wrong with the chain. `kind`: changed, deleted, reordered, inserted, broken_link,
    rewritten, truncated."""

    kind: str
    message: str
    event_id: int | None = None
    seq: int | None = None


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_seq: int
    head_hash: str
    fault: ChainFault | None

    @property
    def intact(self) -> bool:
        return self.fault is None


def _rows(queryset, chunk_size: int):
    """(id, seq, prev_hash, event_hash, occurred_at as canonical text, actor_id, role, action, consignment_id,
    data as stored text), in id order, without Django's per-row conversions of JSON and (on SQLite) dates."""
    text = TextField()
    fields = ["id", "seq", "prev_hash", "event_hash", "actor_id", "role", "action", "consignment_id"]
    if connection.vendor == "sqlite":
        # SQLite stores UTC as `YYYY-MM-DD HH:MM:SS[.ffffff]`: rewritten by string operations, not parsed.
        qs = queryset.annotate(t=Cast("occurred_at", text), d=Cast("data", text)).values_list(*fields, "t", "d")
        for i, s, p, h, a, r, act, c, t, d in qs.order_by("id").iterator(chunk_size=chunk_size):
            yield (
                i,
                s,
                p,
                h,
                (t.replace(" ", "T") if len(t) == 26 else t.replace(" ", "T") + ".000000") + "Z",
                a,
                r,
                act,
                c,
                d,
            )
    else:
        qs = queryset.annotate(d=Cast("data", text)).values_list(*fields, "occurred_at", "d")
        for i, s, p, h, a, r, act, c, t, d in qs.order_by("id").iterator(chunk_size=chunk_size):
            yield i, s, p, h, canonical_time(t), a, r, act, c, d


def _position_fault(row_id, seq, expected_seq, previous) -> ChainFault:
    """The event `row_id` holds position `seq` where `expected_seq` was due: say what happened."""
    if seq > expected_seq:
        elsewhere = AuditEvent.objects.filter(seq=expected_seq).values_list("id", flat=True).first()
        if elsewhere is not None:
            return ChainFault(
                "reordered",
                _(
                    "Event %(id)s (position %(seq)s) is stored before event %(other)s (position %(expected)s): "
                    "the events were reordered."
                )
                % {"id": row_id, "seq": seq, "other": elsewhere, "expected": expected_seq},
                row_id,
                seq,
            )
        return ChainFault(
            "deleted",
            _("Events at positions %(first)s to %(last)s are missing before event %(id)s: they were deleted.")
            % {"first": expected_seq, "last": seq - 1, "id": row_id},
            row_id,
            expected_seq,
        )
    if previous is not None and seq == previous[1]:
        # Two events claim one position: the one that the next position links to is the genuine one.
        prev_id, prev_seq, prev_hash = previous
        genuine_is_previous = AuditEvent.objects.filter(seq=seq + 1, prev_hash=prev_hash).exists()
        inserted = row_id if genuine_is_previous else prev_id
        return ChainFault(
            "inserted",
            _("Events %(a)s and %(b)s both claim position %(seq)s: event %(inserted)s was inserted.")
            % {"a": prev_id, "b": row_id, "seq": seq, "inserted": inserted},
            inserted,
            seq,
        )
    return ChainFault(
        "reordered",
        _("Event %(id)s (position %(seq)s) is stored after position %(expected)s: the events were reordered.")
        % {"id": row_id, "seq": seq, "expected": expected_seq - 1},
        row_id,
        seq,
    )


def _content_fault(row_id, previous) -> ChainFault:
    """Event `row_id` does not match its hash: changed, or renumbered to hide an insertion or a deletion."""
    [(_pk, seq, prev, stored, t, actor, role, action, consignment, data)] = _rows(
        AuditEvent.objects.filter(pk=row_id), chunk_size=1
    )
    shifted = _shifted_fault(row_id, seq, (prev, stored, t, actor, role, action, consignment, data), previous)
    return shifted or ChainFault(
        "changed",
        _("Event %(id)s (position %(seq)s) was changed: its content does not match its hash.")
        % {"id": row_id, "seq": seq},
        row_id,
        seq,
    )


def _shifted_fault(row_id, seq, row, previous) -> ChainFault | None:
    """An event whose hash matches its content at the position just before or after: the events after an
    inserted (or deleted) one were renumbered to hide it."""
    prev, stored, t, actor, role, action, consignment, data = row
    for original in (seq - 1, seq + 1):
        text = event_text(
            seq=original,
            prev_hash=prev,
            occurred_at=t,
            actor_id=actor,
            role=role,
            action=action,
            consignment_id=consignment,
            data_text=data,
        )
        if is_hash(prev) and hashlib.sha256(text.encode()).hexdigest() == stored:
            if original < seq and previous is not None:
                return ChainFault(
                    "inserted",
                    _(
                        "Event %(inserted)s (position %(pos)s) was inserted: the events after it were renumbered, "
                        "starting with event %(id)s."
                    )
                    % {"inserted": previous[0], "pos": previous[1], "id": row_id},
                    previous[0],
                    previous[1],
                )
            return ChainFault(
                "deleted",
                _("An event was deleted before event %(id)s, and the events after it renumbered.") % {"id": row_id},
                row_id,
                seq,
            )
    return None


@dataclass(frozen=True)
class _Position:
    """Where a walk along the chain stands: the next position and link it expects, the last event passed
    (id, seq, hash) and how many events it checked."""

    expected_seq: int
    expected_prev: str
    previous: tuple[int, int, str] | None = None
    checked: int = 0


def _walk(queryset, at: _Position, checkpoints: dict, chunk_size: int, progress) -> tuple[_Position, ChainFault | None]:
    """Check the events of `queryset` in id order from position `at`: the first fault met, or none and where
    the walk ended. The one place that says what is wrong with an event."""
    expected_seq, expected_prev = at.expected_seq, at.expected_prev
    previous_id = at.previous[0] if at.previous else None
    sha256 = hashlib.sha256

    def stop(fault):
        previous = (previous_id, expected_seq - 1, expected_prev) if previous_id is not None else None
        return _Position(expected_seq, expected_prev, previous, at.checked + expected_seq - at.expected_seq), fault

    for chunk in text_chunks(queryset, chunk_size):
        for row_id, seq, prev, stored, text in chunk:
            # The common case first: in place, linked, and matching its hash (a `prev` equal to the hash of the
            # event before is a hash: it was checked then).
            if seq == expected_seq and prev == expected_prev and sha256(text.encode()).hexdigest() == stored:
                if seq in checkpoints and checkpoints[seq].event_hash != stored:
                    return stop(_checkpoint_fault(row_id, seq, checkpoints[seq]))
                expected_seq, expected_prev, previous_id = seq + 1, stored, row_id
                continue
            previous = (previous_id, expected_seq - 1, expected_prev) if previous_id is not None else None
            if sha256(text.encode()).hexdigest() != stored or not is_hash(prev):
                return stop(_content_fault(row_id, previous))
            if seq != expected_seq:
                return stop(_position_fault(row_id, seq, expected_seq, previous))
            fault = ChainFault(
                "broken_link",
                _(
                    "Event %(id)s (position %(seq)s) does not link to the event before it: that one was replaced "
                    "or this one inserted."
                )
                % {"id": row_id, "seq": seq},
                row_id,
                seq,
            )
            return stop(fault)
        if progress is not None:
            progress(len(chunk))
    return stop(None)


def _checkpoint_fault(row_id, seq, checkpoint) -> ChainFault:
    return ChainFault(
        "rewritten",
        _(
            "Event %(id)s (position %(seq)s) does not have the hash recorded in the checkpoint of %(at)s: "
            "the chain was rewritten up to here."
        )
        % {"id": row_id, "seq": seq, "at": checkpoint.recorded_at},
        row_id,
        seq,
    )


@dataclass(frozen=True)
class _RangeScan:
    """One id range walked on its own, from its first event: that event's (seq, prev_hash), where the walk
    ended, and whether it met a fault (named again by the caller, in chain order)."""

    first: tuple[int, str] | None
    end: _Position | None
    sound: bool


def _scan_range(lo: int, hi: int, chunk_size: int, checkpoints: dict) -> _RangeScan:
    """The events of one id range walked by `_walk` from the range's first event; its link to the range
    before is for the caller to check."""
    events = AuditEvent.objects.filter(id__gte=lo, id__lte=hi)
    first = events.order_by("id").values_list("seq", "prev_hash").first()
    if first is None:
        return _RangeScan(None, None, True)
    end, fault = _walk(events, _Position(*first), checkpoints, chunk_size, None)
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


def audit_chain_verify(
    *,
    since: tuple[int, str] | None = None,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    range_size: int = 100_000,
) -> ChainReport:
    """Check the chain from the start, or from a published checkpoint `since` = (seq, hash), up to its head.
    Returns the first fault met, or none. `progress(n)` is called as events are checked.

    With `workers` > 1 the events are split into id ranges of `range_size`, scanned by that many processes;
    the ranges are then taken in chain order, each linked to the last event of the one before (one
    comparison), and the first range that holds a fault, or does not link, is walked again here from its start
    to name the fault, exactly as a walk from the beginning would have. Inside a transaction, or on an
    in-memory SQLite database, the ranges are scanned in this process (other processes would not see the
    same events)."""
    checkpoints = {c.seq: c for c in AuditCheckpoint.objects.order_by("seq")}
    at = _Position(1, GENESIS)
    after_id = 0
    if since is not None:
        anchor_seq, anchor_hash = since
        if not is_hash(anchor_hash):  # it links the first event checked: `_walk` relies on its being a hash
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
        at = _Position(anchor_seq + 1, anchor_hash)
    fault = None
    if workers > 1:
        at, fault = _walk_in_ranges(after_id, at, checkpoints, chunk_size, progress, workers, range_size)
    else:
        at, fault = _walk(AuditEvent.objects.filter(id__gt=after_id), at, checkpoints, chunk_size, progress)
    head_seq = at.expected_seq - 1
    if fault is not None:
        return ChainReport(at.checked, head_seq, at.expected_prev, fault)
    beyond = [c for c in checkpoints.values() if c.seq > head_seq]
    if beyond:
        checkpoint = beyond[-1]
        fault = ChainFault(
            "truncated",
            _(
                "The chain ends at position %(head)s but the checkpoint of %(at)s names position %(seq)s: "
                "the last events were deleted."
            )
            % {"head": head_seq, "at": checkpoint.recorded_at, "seq": checkpoint.seq},
            None,
            head_seq + 1,
        )
    return ChainReport(at.checked, head_seq, at.expected_prev, fault)


def _walk_in_ranges(after_id, at, checkpoints, chunk_size, progress, workers, range_size):
    """`_walk` over the events after `after_id`, with the ranges scanned in parallel (see `audit_chain_verify`).
    The events appended after the verification started are left for the next one."""
    bounds = AuditEvent.objects.filter(id__gt=after_id).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return at, None
    ranges = [(lo, min(lo + range_size - 1, bounds["hi"])) for lo in range(bounds["lo"], bounds["hi"] + 1, range_size)]
    if len(ranges) == 1:
        return _walk(AuditEvent.objects.filter(id__gt=after_id), at, checkpoints, chunk_size, progress)
    scans = _scans(ranges, chunk_size, checkpoints, workers)
    try:
        for (lo, _hi), scan in zip(ranges, scans, strict=True):
            if scan.first is None:
                continue
            if not scan.sound or scan.first != (at.expected_seq, at.expected_prev):
                faulty = lo
                break
            count = scan.end.expected_seq - at.expected_seq
            at = _Position(scan.end.expected_seq, scan.end.expected_prev, scan.end.previous, at.checked + count)
            if progress is not None:
                progress(count)
        else:
            return at, None
    finally:
        scans.close()  # stops the workers still scanning the ranges after a fault
    # The fault is in this range, or at its link to the one before: name it as a walk from the start would.
    return _walk(AuditEvent.objects.filter(id__gte=faulty), at, checkpoints, chunk_size, progress)


def audit_trail_verify(*, consignment) -> list[ChainFault]:
    """Check one consignment's events: each one's hash, and its links to the events just before and after it
    in the chain (whoever they belong to). Two queries, whatever the length of the chain; the whole chain
    is checked by `verify_audit`."""
    events = list(_rows(AuditEvent.objects.filter(consignment=consignment), chunk_size=2000))
    neighbours = {e[1] - 1 for e in events} | {e[1] + 1 for e in events}
    around, links_to = {0: GENESIS}, {}
    for seq, stored, prev in AuditEvent.objects.filter(seq__in=neighbours).values_list(
        "seq", "event_hash", "prev_hash"
    ):
        around[seq], links_to[seq] = stored, prev
    faults = []
    for row_id, seq, prev, stored, t, actor, role, action, consignment_id, data in events:
        text = event_text(
            seq=seq,
            prev_hash=prev,
            occurred_at=t,
            actor_id=actor,
            role=role,
            action=action,
            consignment_id=consignment_id,
            data_text=data,
        )
        if not is_hash(prev) or hashlib.sha256(text.encode()).hexdigest() != stored:
            faults.append(
                ChainFault(
                    "changed",
                    _("Event %(id)s was changed: its content does not match its hash.") % {"id": row_id},
                    row_id,
                    seq,
                )
            )
        elif around.get(seq - 1) != prev:
            faults.append(
                ChainFault(
                    "broken_link",
                    _("Event %(id)s does not link to the event before it in the chain.") % {"id": row_id},
                    row_id,
                    seq,
                )
            )
        elif seq + 1 in links_to and links_to[seq + 1] != stored:
            faults.append(
                ChainFault(
                    "broken_link",
                    _("The event after event %(id)s in the chain does not link to it.") % {"id": row_id},
                    row_id,
                    seq,
                )
            )
    return faults
