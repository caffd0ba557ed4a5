"""The audit key (`PIF_AUDIT_KEY`, from the environment, never in the database) and the two keys derived from
it: one seals the events, the other signs the witness checkpoints (docs/decisions/0010-keyed-audit-chain.md)."""

from django.conf import settings

from .audit_chain import derived_key


def audit_event_key() -> bytes:
    return derived_key(settings.PIF_AUDIT_KEY, "event")


def audit_checkpoint_key() -> bytes:
    return derived_key(settings.PIF_AUDIT_KEY, "checkpoint")
