"""The lock files follow pyproject.toml: an edited pin without `make lock` fails here, not at install time.

requirements.lock (the dependencies and the dev extra) is what `make setup` installs; requirements-prod.lock (the
dependencies alone, at the same versions) is what deploy/Dockerfile installs. Both with a hash for every file."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(name):
    """{canonical name: version} of a lock file, and the names of pins without a hash."""
    versions, unhashed = {}, []
    lines = (ROOT / name).read_text().splitlines()
    for i, line in enumerate(lines):
        match = PIN.match(line)
        if not match:
            continue
        versions[canonicalize_name(match[1])] = match[2]
        if not (line.rstrip().endswith("\\") and "--hash=sha256:" in lines[i + 1]):
            unhashed.append(match[1])
    return versions, unhashed


def pins(requirements):
    """{canonical name: version} of pyproject's `name==version` requirements (extras dropped)."""
    result = {}
    for text in requirements:
        requirement = Requirement(text)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{text}: pyproject.toml pins every dependency with =="
        result[canonicalize_name(requirement.name)] = spec.version
    return result


@pytest.mark.parametrize(
    "lock, requirements",
    [
        ("requirements.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
        ("requirements-prod.lock", PROJECT["dependencies"]),
    ],
)
def test_every_pin_is_locked_at_its_version(lock, requirements):
    versions, _ = locked(lock)
    stale = {
        name: (version, versions.get(name, "missing"))
        for name, version in pins(requirements).items()
        if versions.get(name) != version
    }
    assert stale == {}, f"pyproject.toml and {lock} disagree ({{name: (pyproject, lock)}}): run `make lock`"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-prod.lock"])
def test_every_locked_package_has_a_hash(lock):
    versions, unhashed = locked(lock)
    assert len(versions) > 50
    assert unhashed == []


def test_production_lock_is_the_development_lock_without_the_dev_tools():
    development, _ = locked("requirements.lock")
    production, _ = locked("requirements-prod.lock")
    assert {name: development.get(name) for name in production} == production
    assert "pytest" not in production and "django" in production


def test_make_setup_and_the_dockerfile_install_from_the_locks():
    makefile = (ROOT / "Makefile").read_text()
    assert "cat pyproject.toml requirements.lock | cksum" in makefile
    assert "--require-hashes -r requirements.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--require-hashes -r requirements-prod.lock" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile
