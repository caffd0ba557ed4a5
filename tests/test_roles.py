"""A user's roles and permissions, read in one query (inspection.roles.RoleBackend), are Django's."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User

from inspection.roles import Role, user_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return User.objects.get(pk=user.pk)  # no cached permissions or roles


def test_permissions_are_model_backends_and_roles_come_in_the_same_query(django_assert_num_queries):
    user = UserFactory(username="mixed", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    user.user_permissions.add(Permission.objects.get(codename="view_consignment"))
    Group.objects.create(name="no permissions at all").user_set.add(user)
    expected = ModelBackend().get_all_permissions(_fresh(user))
    assert "workflows.can_decide" in expected and "inspection.view_consignment" in expected

    user = _fresh(user)
    with django_assert_num_queries(1):
        assert user.get_all_permissions() == expected
        assert user.has_perm("workflows.can_check") and not user.has_perm("workflows.can_supervise")
        assert user_roles(user) == {Role.INSPECTOR, Role.CERTIFYING_OFFICER, "no permissions at all"}


def test_roles_first_then_permissions_is_one_query_too(django_assert_num_queries):
    user = _fresh(UserFactory(username="roles-first", roles=[Role.SUPERVISOR]))
    with django_assert_num_queries(1):
        assert user_roles(user) == {Role.SUPERVISOR}
        assert user.has_perm("workflows.can_supervise")


def test_an_inactive_user_has_no_permission_and_a_superuser_every_one():
    inactive = UserFactory(username="gone", roles=[Role.SUPERVISOR])
    inactive.is_active = False
    inactive.save()
    assert _fresh(inactive).get_all_permissions() == set()
    assert not _fresh(inactive).has_perm("workflows.can_supervise")

    root = UserFactory(username="root")
    root.is_superuser = True
    root.save()
    assert _fresh(root).get_all_permissions() == ModelBackend().get_all_permissions(_fresh(root))
    assert Role.ADMIN in user_roles(_fresh(root))
