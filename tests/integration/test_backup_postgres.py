"""`manage.py backup` then `manage.py restore` into a new PostgreSQL database and an empty folder: the audit trail
verifies, every table has the same rows, every private file the same bytes; a non-empty target is refused."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection

from inspection.services.consignments import consignment_create
from tests.factories import importer_factory, part_one

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _server(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"


def _row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608


def _files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_backup_and_restore_round_trip_on_postgresql(tmp_path):
    user = importer_factory("backed-up")
    for _ in range(3):
        consignment_create(actor=user, part_one=part_one())
    storages["private"].save("documents/backup-test/evidence.pdf", ContentFile(b"%PDF-1.7 evidence " * 100))
    archive = tmp_path / "pif-backup.tar.gz"

    call_command("backup", str(archive), no_progress=True)

    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    with psycopg.connect(_server("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    restored_files = tmp_path / "restored-private"
    env = {
        **os.environ,
        "DATABASE_URL": _server(target),
        "PIF_PRIVATE_ROOT": str(restored_files),
        "PIF_READ_DOT_ENV": "false",
    }
    restore = [sys.executable, "manage.py", "restore", str(archive), "--no-progress"]
    try:
        result = subprocess.run(restore, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "audit trail intact" in result.stdout

        assert _row_counts(_server(target)) == _row_counts(_server(source))
        assert _files(restored_files) == _files(Path(settings.PRIVATE_ROOT))
        assert "documents/backup-test/evidence.pdf" in _files(restored_files)

        again = subprocess.run(restore, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 1
        assert "restore failed: the database" in again.stderr and "is not empty" in again.stderr
    finally:
        with psycopg.connect(_server("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def test_a_damaged_archive_is_refused_before_anything_is_loaded(tmp_path):
    archive = tmp_path / "pif-backup.tar"
    call_command("backup", str(archive), no_progress=True)
    data = bytearray(archive.read_bytes())
    at = data.index(b"PGDMP") + 600  # inside the database dump, past its header
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    target = f"{connection.settings_dict['NAME']}_damaged"
    with psycopg.connect(_server("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    env = {**os.environ, "DATABASE_URL": _server(target), "PIF_PRIVATE_ROOT": str(tmp_path / "p")}
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "restore", str(archive), "--no-progress"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 1
        assert "checksum differs: database.pgdump" in result.stderr
        assert _row_counts(_server(target)) == {}
        assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())
    finally:
        with psycopg.connect(_server("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
