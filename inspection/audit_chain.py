"""The audit chain's canonical form and hashes: pure functions shared by the writer (`inspection.audit`),
the verifier (`inspection.audit_verify`), the migration that chained the existing events, and the benchmark.

The canonical JSON of a value is the text PostgreSQL gives for it as `jsonb::text`: object keys ordered by
length in UTF-8 bytes and then bytewise, `", "` and `": "` as separators, strings escaped as JSON requires and
nothing more (no `\\uXXXX` for non-ASCII), numbers in plain positional notation. SQLite stores exactly that
text (`CanonicalJSONField`), so the verifier hashes what the database returns without parsing it, on both
backends. An event's hash is the sha256 of the canonical JSON of its envelope (see `event_text`); see
docs/decisions/0005-audit-chain.md.

Each event is also sealed with the audit key (`PIF_AUDIT_KEY`, never in the database): its `mac` is
sha256(seal + event_hash), where the seal is the HMAC-SHA256 of its body (the envelope without its position and
link, `event_body`) under a key derived from the audit key. The seal is never stored: whoever writes the
database but lacks the key can neither write a new event nor move an old one. See
docs/decisions/0010-keyed-audit-chain.md.
"""

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from decimal import Decimal

GENESIS = "0" * 64  # the "previous hash" of the first event


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError("the audit trail stores finite numbers only")
    text = format(Decimal(repr(value)), "f")
    return "0" + text[2:] if text.startswith("-0") and Decimal(text) == 0 else text


def canonical_json(value) -> str:
    """The canonical JSON text of a JSON value (dict with str keys, list, str, int, float, bool, None)."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{_string(k)}: {canonical_json(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(canonical_json(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_time(moment: datetime) -> str:
    """`2026-11-25T22:09:32.123456Z`: UTC, always six decimals."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


_STRINGS: dict[str, str] = {}


def _cached_string(value: str) -> str:
    """Roles and actions repeat: escape each one once per process."""
    text = _STRINGS.get(value)
    if text is None:
        text = _string(value)
        if len(_STRINGS) < 10_000:  # a tampered chain may hold any number of distinct values
            _STRINGS[value] = text
    return text


def event_text(
    *, seq: int, prev_hash: str, occurred_at: str, actor_id, role: str, action: str, consignment_id, data_text: str
) -> str:
    """The canonical JSON of an event's envelope, written out in canonical key order (seq; data, prev, role;
    actor; action; consignment, occurred_at) so that verifying costs one f-string and no parsing.
    `tests/test_audit_chain.py` checks that it equals `canonical_json` of the same envelope."""
    return (
        f'{{"seq": {seq}, "data": {data_text}, "prev": "{prev_hash}", "role": {_cached_string(role)}, '
        f'"actor": {"null" if actor_id is None else actor_id}, "action": {_cached_string(action)}, '
        f'"consignment": {"null" if consignment_id is None else consignment_id}, "occurred_at": "{occurred_at}"}}'
    )


def event_body(*, occurred_at: str, actor_id, role: str, action: str, consignment_id, data_text: str) -> str:
    """The canonical JSON of an event's envelope without `seq` and `prev` (what the seal covers), in canonical
    key order (data, role; actor; action; consignment, occurred_at)."""
    return (
        f'{{"data": {data_text}, "role": {_cached_string(role)}, '
        f'"actor": {"null" if actor_id is None else actor_id}, "action": {_cached_string(action)}, '
        f'"consignment": {"null" if consignment_id is None else consignment_id}, "occurred_at": "{occurred_at}"}}'
    )


def derived_key(audit_key: str, purpose: str) -> bytes:
    """The key of one use of the audit key ("event" seals, "checkpoint" signatures): one secret, two keys."""
    return hmac.new(audit_key.encode(), f"pif-audit/{purpose}".encode(), hashlib.sha256).digest()


def event_seal(event_key: bytes, body: str) -> str:
    """HMAC-SHA256 of an event's body: secret (never stored), known only to whoever holds the audit key."""
    return hmac.digest(event_key, body.encode(), "sha256").hex()


def event_sealer(event_key: bytes):
    """`event_seal` with this key, as a function of the body, for the verifier's loop: the same HMAC-SHA256
    from the inner and outer states computed once (about twice as fast as `hmac.digest` per call)."""
    block = event_key.ljust(64, b"\0")  # a derived key is 32 bytes: shorter than sha256's block
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def seal(body: str) -> str:
        digest = inner.copy()
        digest.update(body.encode())
        result = outer.copy()
        result.update(digest.digest())
        return result.hexdigest()

    return seal


def event_mac(seal: str, hash_: str) -> str:
    """What the event stores in `mac`: binds the seal of its body to its hash (hence to its position and link).
    Always 128 hex digits hashed, so a sha256 length extension gives nothing a verifier would compute."""
    return hashlib.sha256((seal + hash_).encode()).hexdigest()


def checkpoint_signature(checkpoint_key: bytes, payload: dict) -> str:
    """HMAC-SHA256 of a witness checkpoint's canonical JSON (everything but its signature)."""
    return hmac.digest(checkpoint_key, canonical_json(payload).encode(), "sha256").hex()


def event_hash(**envelope) -> str:
    return hashlib.sha256(event_text(**envelope).encode()).hexdigest()


def is_hash(value) -> bool:
    """64 lowercase hex digits: checked before a stored link is put into a hashed text unescaped."""
    return isinstance(value, str) and len(value) == 64 and value.strip("0123456789abcdef") == ""
