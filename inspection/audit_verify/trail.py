"""Verifying one consignment's events, for its decision trail page."""

import hashlib

from django.utils.translation import gettext as _

from inspection.audit_chain import GENESIS, event_body, event_mac, event_seal, event_text, is_hash
from inspection.audit_key import audit_event_key
from inspection.models import AuditEvent

from .faults import ChainFault
from .rows import event_rows


def audit_trail_verify(*, consignment) -> list[ChainFault]:
    """Check one consignment's events: each one's hash, and its links to the events just before and after it
    in the chain (whoever they belong to). Two queries, whatever the length of the chain; the whole chain
    is checked by `verify_audit`."""
    events = list(event_rows(AuditEvent.objects.filter(consignment=consignment), chunk_size=2000))
    neighbours = {e[1] - 1 for e in events} | {e[1] + 1 for e in events}
    around, links_to = {0: GENESIS}, {}
    for seq, stored, prev in AuditEvent.objects.filter(seq__in=neighbours).values_list(
        "seq", "event_hash", "prev_hash"
    ):
        around[seq], links_to[seq] = stored, prev
    faults, key = [], audit_event_key()
    for row_id, seq, prev, stored, t, actor, role, action, consignment_id, data, mac in events:
        envelope = dict(occurred_at=t, actor_id=actor, role=role, action=action, consignment_id=consignment_id)
        text = event_text(seq=seq, prev_hash=prev, data_text=data, **envelope)
        if not is_hash(prev) or hashlib.sha256(text.encode()).hexdigest() != stored:
            faults.append(
                ChainFault(
                    "changed",
                    _("Event %(id)s was changed: its content does not match its hash.") % {"id": row_id},
                    row_id,
                    seq,
                )
            )
        elif event_mac(event_seal(key, event_body(data_text=data, **envelope)), stored) != mac:
            faults.append(
                ChainFault(
                    "forged",
                    _("Event %(id)s does not carry the audit key's seal: it was written without the key.")
                    % {"id": row_id},
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
