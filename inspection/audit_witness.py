"""The witness checkpoints: the audit chain's head, signed with the audit key and written outside the database
(`PIF_AUDIT_WITNESS_DIR`), one file per checkpoint, created once and never rewritten. `verify_audit` reads them:
whoever can write the database can delete its checkpoint rows, but not these files, nor sign new ones
(docs/decisions/0010-keyed-audit-chain.md)."""

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .audit_chain import canonical_time, checkpoint_signature, is_hash
from .audit_key import audit_checkpoint_key

FORMAT = "pif-audit-checkpoint/1"


@dataclass(frozen=True)
class WitnessCheckpoint:
    seq: int
    event_hash: str
    recorded_at: str  # canonical UTC time
    path: Path


def witness_payload(*, seq: int, event_hash: str, recorded_at: str) -> dict:
    return {"format": FORMAT, "seq": seq, "event_hash": event_hash, "recorded_at": recorded_at}


def witness_write(*, seq: int, event_hash: str, recorded_at: datetime, folder: Path | None = None) -> Path:
    """Write a signed checkpoint as a new file of the witness folder (never an existing one: the name holds
    the time and the position, and the file is linked into place only if that name is free)."""
    folder = Path(folder or settings.PIF_AUDIT_WITNESS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    at = canonical_time(recorded_at)
    payload = witness_payload(seq=seq, event_hash=event_hash, recorded_at=at)
    document = {**payload, "signature": checkpoint_signature(audit_checkpoint_key(), payload)}
    path = folder / f"{at.replace(':', '').replace('-', '')}-{seq}.json"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(document, file, indent=1)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # FileExistsError rather than rewriting a checkpoint
    finally:
        os.unlink(temporary)
    return path


def _read_one(path: Path) -> WitnessCheckpoint:
    try:
        document = json.loads(path.read_text())
        payload = {key: document[key] for key in ("format", "seq", "event_hash", "recorded_at")}
        signature = document["signature"]
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(_("Witness file %(file)s cannot be read as a checkpoint.") % {"file": path}) from exc
    well_formed = (
        payload["format"] == FORMAT
        and type(payload["seq"]) is int
        and payload["seq"] >= 0
        and is_hash(payload["event_hash"])
        and isinstance(payload["recorded_at"], str)
        and isinstance(signature, str)
    )
    if not well_formed or checkpoint_signature(audit_checkpoint_key(), payload) != signature:
        raise ValueError(
            _(
                "Witness file %(file)s does not carry the audit key's signature: it was altered, or signed with "
                "another key."
            )
            % {"file": path}
        )
    return WitnessCheckpoint(payload["seq"], payload["event_hash"], payload["recorded_at"], path)


def witness_read(paths) -> tuple[list[WitnessCheckpoint], list[str]]:
    """The checkpoints of the witness files at `paths` (files, or folders of `*.json` files), in order of
    position, and what is wrong with the files that are not sound checkpoints (each named)."""
    checkpoints, problems = [], []
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.glob("*.json")))
        elif path.exists():
            files.append(path)
        else:
            problems.append(_("Witness file %(file)s does not exist.") % {"file": path})
    for file in files:
        try:
            checkpoints.append(_read_one(file))
        except ValueError as exc:
            problems.append(str(exc))
    return sorted(checkpoints, key=lambda c: (c.seq, c.recorded_at)), problems
