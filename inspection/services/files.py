"""Private files written in a transaction (certificates, documents, check photos): the file goes with its row.

A file is written before its row (the row records its name), so a transaction that rolls back would leave it
behind, unreachable. `file_store` writes it and removes it again if the transaction, or the savepoint it was
written in, rolls back, whoever rolls it back (the service, its caller, a failed commit). A process that dies
mid-transaction removes nothing: `files_unrecorded_delete` (daily, and `manage.py sweep_files`) deletes the
files no row records, once older than `PIF_FILE_SWEEP_GRACE_SECONDS`, so that a file whose transaction is still
open is never taken for an orphan."""

import logging
import weakref
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from inspection.models.storage import private_storage

logger = logging.getLogger(__name__)


def file_store(*, storage, name: str, content) -> str:
    """Write `content` under `name` (or a free name near it) and return the name written; removed again if
    the current transaction or savepoint rolls back."""
    stored = storage.save(name, content)
    _remove_unless_committed(storage, stored)
    return stored


def field_file_store(field_file, name: str, content) -> None:
    """`file_store` for a model's file field (its storage and `upload_to`); the row is saved by the caller."""
    field_file.save(name, content, save=False)
    _remove_unless_committed(field_file.storage, field_file.name)


class _CommitHook:
    """An on-commit hook that marks the file kept. Django runs it on commit, and drops it, unrun, when the
    transaction or the savepoint it was registered in rolls back (or the connection is closed): dropped, it is
    freed, and its finalizer removes the file. Nothing else holds it. Django also drops the hooks after one that
    raises: so every hook in the project is registered by `inspection.outbox`, whose hooks never raise (a test
    checks it)."""

    def __init__(self, state: dict):
        self.state = state

    def __call__(self):
        self.state["committed"] = True


def _remove_unless_committed(storage, name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        return  # no transaction to undo it: the row is the caller's next statement, and the sweep the net
    state = {"committed": False}
    hook = _CommitHook(state)
    weakref.finalize(hook, _remove_if_rolled_back, storage, name, state)
    transaction.on_commit(hook)


def _remove_if_rolled_back(storage, name: str, state: dict) -> None:
    if state["committed"]:
        return
    try:
        storage.delete(name)
    except OSError:  # left for the sweep; the rollback's own error matters more
        logger.warning("could not remove %s after its transaction rolled back", name, exc_info=True)


def private_file_fields() -> list[tuple[type[models.Model], str, str]]:
    """(model, field name, folder) of every file field in the private storage; the folder is the first part
    of its `upload_to` (`certificates`, `documents`, ...)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and getattr(field, "_storage_callable", None) is private_storage:
                found.append((model, field.name, str(field.upload_to).split("/", 1)[0]))
    return found


def files_unrecorded(*, now=None) -> list[str]:
    """The private files that no row records and that are older than the grace period, by folder."""
    storage = private_storage()
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PIF_FILE_SWEEP_GRACE_SECONDS)
    folders: dict[str, set[str]] = {}
    for model, field, folder in private_file_fields():
        recorded = model._default_manager.filter(**{f"{field}__startswith": folder + "/"})
        folders.setdefault(folder, set()).update(recorded.values_list(field, flat=True))
    orphans = []
    for folder, recorded in sorted(folders.items()):
        for name in _walk(storage, folder):
            if name not in recorded and storage.get_modified_time(name) < cutoff:
                orphans.append(name)
    return orphans


def files_unrecorded_delete(*, dry_run: bool = False, now=None) -> list[str]:
    """Delete (unless `dry_run`) the files `files_unrecorded` lists, and return them. A row written meanwhile
    for one of them is impossible: its transaction would have written the file after the grace period."""
    orphans = files_unrecorded(now=now)
    if not dry_run:
        storage = private_storage()
        for name in orphans:
            storage.delete(name)
        if orphans:
            logger.warning("deleted %d private files no row recorded: %s", len(orphans), ", ".join(orphans[:20]))
    return orphans


def _walk(storage, folder: str):
    if not storage.exists(folder):
        return
    subfolders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in subfolders:
        yield from _walk(storage, f"{folder}/{sub}")
