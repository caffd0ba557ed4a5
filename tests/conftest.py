"""Personas: `importer` and `other_importer` (two companies: the second must see nothing of the first),
`inspector`, `officer`, `supervisor`, `lab`; and API clients logged in as them."""

import pytest
from rest_framework.test import APIClient

from inspection.roles import Role
from tests.factories import UserFactory, importer_factory


@pytest.fixture
def importer(db):
    return importer_factory("alice")


@pytest.fixture
def other_importer(db):
    return importer_factory("bob")


@pytest.fixture
def inspector(db):
    return UserFactory(username="ines", roles=[Role.INSPECTOR])


@pytest.fixture
def officer(db):
    return UserFactory(username="olivier", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sylvie", roles=[Role.SUPERVISOR])


@pytest.fixture
def lab(db):
    """An account of every laboratory (tests of one lab's isolation make their own)."""
    from inspection.models import Laboratory

    user = UserFactory(username="labo", roles=[Role.LAB])
    user.laboratories.set(Laboratory.objects.all())
    return user


def api_client_for(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api(importer):
    return api_client_for(importer)
