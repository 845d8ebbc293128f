"""The role → permission table and ``allowed``: staff by role, a holder for their own stall only."""

import pytest

from market.access.roles import (
    PERMISSIONS,
    STALL_SCOPED,
    AuthMethod,
    Permission,
    Role,
    allowed,
    holder_principal,
    staff_principal,
)


def _staff(role: Role):
    return staff_principal(user_id=1, username=role.value, full_name="", role=role.value, via=AuthMethod.PASSWORD)


def test_admin_may_do_everything_and_nobody_anything():
    for permission in Permission:
        assert allowed(_staff(Role.ADMIN), permission, stall_id=7)
        assert not allowed(None, permission, stall_id=7)


def test_national_ids_users_tokens_and_audit_are_admin_only():
    for permission in (
        Permission.NATIONAL_ID_READ,
        Permission.USERS_MANAGE,
        Permission.TOKENS_MANAGE,
        Permission.AUDIT_READ,
        Permission.SETTINGS_MANAGE,
    ):
        assert [r for r in Role if permission in PERMISSIONS[r]] == [Role.ADMIN]


@pytest.mark.parametrize(
    ("role", "may", "may_not"),
    [
        (Role.OFFICE, [Permission.REGISTRY_WRITE, Permission.REVIEW_QUEUE, Permission.STALL_INTENTS], []),
        (
            Role.COMMUNE,
            [Permission.ADOPTION_READ, Permission.SURVEY_WRITE, Permission.REGISTRY_READ],
            [Permission.PHONES_READ, Permission.REGISTRY_WRITE, Permission.REVIEW_QUEUE, Permission.STALL_INTENTS],
        ),
        (
            Role.TEAM,
            [Permission.VISITS_READ, Permission.VISITS_WRITE, Permission.ONBOARDING_WRITE, Permission.PHONES_READ],
            [Permission.REVIEW_QUEUE, Permission.ACCOUNTS_APPROVE, Permission.REGISTRY_WRITE, Permission.STALL_TAKINGS],
        ),
    ],
)
def test_staff_roles(role, may, may_not):
    principal = _staff(role)
    assert all(allowed(principal, p, stall_id=3) for p in may)
    assert not any(allowed(principal, p, stall_id=3) for p in may_not)
    assert not allowed(principal, Permission.NATIONAL_ID_READ)


def test_a_holder_may_do_their_own_stalls_things_only():
    holder = holder_principal(stall_id=2, stall_code="A-02", holder_name="Bà Hai")
    assert holder.actor == "stall:A-02"
    assert holder.is_holder
    for permission in STALL_SCOPED:
        assert allowed(holder, permission, stall_id=2)
        assert not allowed(holder, permission, stall_id=3)
        assert not allowed(holder, permission)  # no stall named: refused
    for permission in set(Permission) - STALL_SCOPED:
        assert not allowed(holder, permission, stall_id=2)


def test_staff_principal_records_the_username_as_actor():
    principal = staff_principal(user_id=5, username="lan", full_name="Lê Thị Lan", role="office", via=AuthMethod.TOKEN)
    assert (principal.actor, principal.name, principal.role, principal.via) == (
        "lan",
        "Lê Thị Lan",
        Role.OFFICE,
        "token",
    )
