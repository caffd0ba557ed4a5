"""Backups: the database and the private files (PIF_PRIVATE_ROOT) in one tar archive, with a manifest.

The archive holds `database.pgdump` (pg_dump's custom format) or `database.sqlite3` (SQLite's online backup),
the files under `private/`, and last `manifest.json`: the format, when, the engine, the last migration applied
per app, and each file's path, size and SHA-256. A restore goes into an empty database and an empty private
folder only, checks every checksum before it loads anything, then loads the database and moves the files in.

The database is dumped first, then the files: a file written during the backup (files are never rewritten, only
added) is at worst one that no restored row names. Secrets are not in the archive: SECRET_KEY, the signing key
and certificate, and the audit key are kept by the operator elsewhere (docs/operations.md).
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT, VERSION = "pif-backup", 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
FILES = "private"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """What went wrong, in a sentence for the operator."""


def _engine() -> str:
    if connection.vendor not in DATABASE_MEMBERS:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {connection.vendor}")
    return connection.vendor


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _run(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed: install PostgreSQL's client programs (Debian: apt-get install "
            "postgresql-client), of the server's major version or newer"
        )
    result = subprocess.run([tool, *args], env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _database_dump(dest: Path) -> None:
    if _engine() == "postgresql":
        name = connection.settings_dict["NAME"]
        _run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}", f"--dbname={name}")
    else:
        source = sqlite3.connect(connection.settings_dict["NAME"])
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()


def _private_files() -> list[Path]:
    root = Path(settings.PRIVATE_ROOT)
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


class _Hashing:
    """A file read through: its SHA-256, and the bytes read reported to `progress`."""

    def __init__(self, fileobj, progress: Callable[[int], object]):
        self.fileobj, self.progress, self.sha256 = fileobj, progress, hashlib.sha256()

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.sha256.update(data)
        self.progress(len(data))
        return data


def _tar_info(tar: tarfile.TarFile, path: Path, arcname: str) -> tarfile.TarInfo:
    info = tar.gettarinfo(str(path), arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o640
    return info


def _add(tar: tarfile.TarFile, path: Path, arcname: str, progress) -> dict:
    info = _tar_info(tar, path, arcname)
    with path.open("rb") as fileobj:
        hashing = _Hashing(fileobj, progress)
        tar.addfile(info, hashing)
    return {"path": arcname, "size": info.size, "sha256": hashing.sha256.hexdigest()}


def _write_mode(path: Path) -> str:
    return "w:gz" if path.name.endswith((".tar.gz", ".tgz")) else "w"


def backup_create(archive: Path, *, progress_start: Callable[[int | None], Callable[[int], object]]) -> dict:
    """Write the archive; return its manifest. `progress_start(total_bytes)` gives the callback for bytes done."""
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} already exists: choose a new file name (a backup never overwrites one)")
    if not archive.parent.is_dir():
        raise BackupError(f"the folder {archive.parent} does not exist")
    engine = _engine()
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="pif-backup-", dir=archive.parent) as staging:
        dump = Path(staging) / DATABASE_MEMBERS[engine]
        _database_dump(dump)
        files = _private_files()
        root = Path(settings.PRIVATE_ROOT)
        progress = progress_start(dump.stat().st_size + sum(path.stat().st_size for path in files))
        entries = []
        try:
            with tarfile.open(partial, _write_mode(archive), format=tarfile.PAX_FORMAT) as tar:
                entries.append(_add(tar, dump, dump.name, progress))
                for path in files:
                    arcname = str(PurePosixPath(FILES, *path.relative_to(root).parts))
                    entries.append(_add(tar, path, arcname, progress))
                manifest = {
                    "format": FORMAT,
                    "version": VERSION,
                    "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "database": {"engine": engine, "file": dump.name, "migrations": _migrations()},
                    "files": entries,
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                manifest_path = Path(staging) / MANIFEST
                manifest_path.write_bytes(body)
                tar.add(str(manifest_path), MANIFEST, filter=lambda info: _tar_info(tar, manifest_path, MANIFEST))
            partial.rename(archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _migrations() -> dict[str, str]:
    last = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        last[app] = max(last.get(app, ""), name)
    return dict(sorted(last.items()))


def _empty_target() -> None:
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"the database {connection.settings_dict['NAME']} is not empty ({len(tables)} tables): restore only into "
            "an empty database (PostgreSQL: createdb a new one and point DATABASE_URL at it)"
        )
    root = Path(settings.PRIVATE_ROOT)
    if root.exists() and any(root.iterdir()):
        raise BackupError(f"the private files folder {root} is not empty: restore only into an empty folder")


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == str(path)


def backup_restore(archive: Path, *, progress_start: Callable[[int | None], Callable[[int], object]]) -> dict:
    """Load the archive into the empty database and private folder; return its manifest. Nothing is loaded
    unless every file in the archive matches its checksum in the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    engine = _engine()
    _empty_target()
    root = Path(settings.PRIVATE_ROOT)
    root.parent.mkdir(parents=True, exist_ok=True)
    compressed = archive.name.endswith((".tar.gz", ".tgz"))
    progress = progress_start(None if compressed else archive.stat().st_size)
    staging = Path(tempfile.mkdtemp(prefix=".pif-restore-", dir=root.parent))
    try:
        seen, manifest = {}, None
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    if not member.isfile() or not _safe_name(member.name):
                        raise BackupError(f"unexpected entry in the archive: {member.name!r}")
                    source = tar.extractfile(member)
                    if member.name == MANIFEST:
                        manifest = json.loads(source.read(10 * CHUNK))
                        continue
                    target = staging / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    hashing = _Hashing(source, progress)
                    with target.open("wb") as out:
                        shutil.copyfileobj(hashing, out, CHUNK)
                    seen[member.name] = (member.size, hashing.sha256.hexdigest())
        except (tarfile.TarError, EOFError, OSError, json.JSONDecodeError) as exc:
            raise BackupError(f"{archive} is not a readable PIF backup: {exc.__class__.__name__}: {exc}") from exc
        _manifest_check(manifest, seen, engine)
        _database_load(staging / manifest["database"]["file"])
        files = staging / FILES
        if files.exists():
            if root.exists():
                root.rmdir()  # checked empty above
            files.rename(root)
        else:
            root.mkdir(parents=True, exist_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _manifest_check(manifest, seen: dict, engine: str) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("the archive has no PIF backup manifest (manifest.json)")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"backup format version {manifest.get('version')} is not supported (this PIF reads {VERSION})"
        )
    if manifest["database"]["engine"] != engine:
        raise BackupError(
            f"the backup is of a {manifest['database']['engine']} database; the target is {engine}: restore into the "
            "same engine"
        )
    listed = {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]}
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    wrong = sorted(name for name in set(listed) & set(seen) if listed[name] != seen[name])
    if missing or extra or wrong:
        raise BackupError(
            "the archive does not match its manifest: "
            + "; ".join(
                f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
                for label, names in (("missing", missing), ("not listed", extra), ("checksum differs", wrong))
                if names
            )
        )
    if manifest["database"]["file"] not in seen:
        raise BackupError("the archive holds no database")


def _database_load(dump: Path) -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        connection.close()
        _run(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={name}",
            str(dump),
        )
    else:
        connection.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump, name)
