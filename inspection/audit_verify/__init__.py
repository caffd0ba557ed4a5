"""Verifying the audit chain: walk the events in the order they are stored (id), recompute each hash from
the text the database returns, follow the links and the positions, and compare with the checkpoints.
Streams the table; Python puts each canonical text together from the columns and hashes it; several
processes can share the work over id ranges (bench/bench_audit.py)."""

from .chain import ChainReport, audit_chain_verify
from .faults import ChainFault
from .rows import event_texts, text_chunks
from .trail import audit_trail_verify

__all__ = ["ChainFault", "ChainReport", "audit_chain_verify", "audit_trail_verify", "event_texts", "text_chunks"]
