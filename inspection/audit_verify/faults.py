"""What is wrong with the chain, said in words: the first fault a walk meets, named from the events around it."""

import hashlib
from dataclasses import dataclass

from django.utils.translation import gettext as _

from inspection.audit_chain import event_text, is_hash
from inspection.models import AuditEvent

from .rows import event_rows


@dataclass(frozen=True)
class Checkpoint:
    """A head the chain must pass through: a row of the database or a witness file; `name` says which."""

    seq: int
    event_hash: str
    name: str


@dataclass(frozen=True)
class ChainFault:
    """The first thing wrong with the chain. `kind`: changed, deleted, reordered, inserted, broken_link, forged,
    rewritten, truncated."""

    kind: str
    message: str
    event_id: int | None = None
    seq: int | None = None


def position_fault(row_id, seq, expected_seq, previous) -> ChainFault:
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


def content_fault(row_id, previous) -> ChainFault:
    """Event `row_id` does not match its hash: changed, or renumbered to hide an insertion or a deletion."""
    [(_pk, seq, prev, stored, t, actor, role, action, consignment, data, _mac)] = event_rows(
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


def seal_fault(row_id, seq, stored) -> ChainFault:
    """Event `row_id` holds its position, links and matches its hash, but not its seal: written without the audit
    key. When the event after it is one renumbered to make room for it, it was inserted."""
    next_id = AuditEvent.objects.filter(id__gt=row_id).order_by("id").values_list("id", flat=True).first()
    if next_id is not None:
        [(_pk, next_seq, *row, _mac)] = event_rows(AuditEvent.objects.filter(pk=next_id), chunk_size=1)
        shifted = _shifted_fault(next_id, next_seq, row, (row_id, seq, stored))
        if shifted is not None and shifted.kind == "inserted":
            return shifted
    return ChainFault(
        "forged",
        _(
            "Event %(id)s (position %(seq)s) does not carry the audit key's seal: it was written or rewritten "
            "without the key (or PIF_AUDIT_KEY is not the key the trail was written with)."
        )
        % {"id": row_id, "seq": seq},
        row_id,
        seq,
    )


def checkpoint_fault(row_id, seq, checkpoint: Checkpoint) -> ChainFault:
    return ChainFault(
        "rewritten",
        _(
            "Event %(id)s (position %(seq)s) does not have the hash recorded in %(checkpoint)s: "
            "the chain was rewritten up to here."
        )
        % {"id": row_id, "seq": seq, "checkpoint": checkpoint.name},
        row_id,
        seq,
    )


def link_fault(row_id, seq) -> ChainFault:
    """Event `row_id` matches its hash and holds its position, but links to another event than the one before."""
    return ChainFault(
        "broken_link",
        _(
            "Event %(id)s (position %(seq)s) does not link to the event before it: that one was replaced "
            "or this one inserted."
        )
        % {"id": row_id, "seq": seq},
        row_id,
        seq,
    )
