"""Who may do what: the roles, the signed-in principal, and the role → permission table.

The table is data, so that the web layer's guards, the tests that enumerate every route and a
reader of this file all see the same rules. A stall holder has no account: the stall's link signs
a phone in to that one stall, so the holder's permissions hold only for their own stall.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

__all__ = [
    "PERMISSIONS",
    "STAFF_ROLES",
    "STALL_SCOPED",
    "AuthMethod",
    "Permission",
    "Principal",
    "Role",
    "allowed",
    "holder_principal",
    "staff_principal",
]


class Role(StrEnum):
    """A principal's role; the first four are staff accounts, ``holder`` a stall's own phone."""

    ADMIN = "admin"  # Ban quản lý chợ (head): everything
    OFFICE = "office"  # market office staff
    COMMUNE = "commune"  # UBND xã
    TEAM = "team"  # Tổ công nghệ số cộng đồng
    HOLDER = "holder"  # tiểu thương, signed in by the stall's link


STAFF_ROLES = (Role.ADMIN, Role.OFFICE, Role.COMMUNE, Role.TEAM)


class AuthMethod(StrEnum):
    """How the principal proved who they are."""

    PASSWORD = "password"  # noqa: S105 - a name, not a secret; a session started by username and password
    LINK = "link"  # a session started by a stall's sign-in link
    TOKEN = "token"  # noqa: S105 - a name, not a secret; an API token (Authorization: Bearer)
    CLI = "cli"  # the operator of the server machine


class Permission(StrEnum):
    """One thing a route or command may need."""

    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE = "tokens.manage"
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"
    REGISTRY_READ = "registry.read"
    REGISTRY_WRITE = "registry.write"
    PHONES_READ = "phones.read"
    ACCOUNTS_READ = "accounts.read"  # the stalls' receiving accounts; the outreach team has no need of them
    NATIONAL_ID_READ = "national_id.read"
    ACCOUNTS_APPROVE = "accounts.approve"
    STALL_LINKS_MANAGE = "stall_links.manage"
    REVIEW_QUEUE = "review.queue"
    STATEMENTS_READ = "statements.read"
    ADOPTION_READ = "adoption.read"
    SURVEY_WRITE = "survey.write"
    VISITS_READ = "visits.read"
    VISITS_WRITE = "visits.write"
    ONBOARDING_WRITE = "onboarding.write"
    # One stall's own things: a holder has them for their stall only, office and admin for any stall.
    STALL_CARD = "stall.card"
    STALL_STREAM = "stall.stream"
    STALL_INTENTS = "stall.intents"
    STALL_TAKINGS = "stall.takings"


STALL_SCOPED = frozenset(
    {Permission.STALL_CARD, Permission.STALL_STREAM, Permission.STALL_INTENTS, Permission.STALL_TAKINGS}
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OFFICE: frozenset(
        {
            Permission.REGISTRY_READ,
            Permission.REGISTRY_WRITE,
            Permission.PHONES_READ,
            Permission.ACCOUNTS_READ,
            Permission.ACCOUNTS_APPROVE,
            Permission.STALL_LINKS_MANAGE,
            Permission.REVIEW_QUEUE,
            Permission.STATEMENTS_READ,
            Permission.ADOPTION_READ,
            # The visit list is one of the office's reports; recording visits stays the team's.
            Permission.VISITS_READ,
            *STALL_SCOPED,
        }
    ),
    # The commune sees the registry without phones or national IDs, and writes only its report's inputs.
    Role.COMMUNE: frozenset(
        {Permission.REGISTRY_READ, Permission.ACCOUNTS_READ, Permission.ADOPTION_READ, Permission.SURVEY_WRITE}
    ),
    # The outreach team visits holders, so it needs their phones; it never sees accounts or the review queue.
    Role.TEAM: frozenset(
        {
            Permission.REGISTRY_READ,
            Permission.PHONES_READ,
            Permission.VISITS_READ,
            Permission.VISITS_WRITE,
            Permission.ONBOARDING_WRITE,
        }
    ),
    Role.HOLDER: STALL_SCOPED,
}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is making a request: a staff user or a stall's holder, and how they signed in.

    ``actor`` is what the history and the audit log record: the username, ``stall:A-01`` for a
    holder, ``cli:<os user>`` for the command line; never anything the client chose.
    """

    role: Role
    name: str
    actor: str
    via: AuthMethod
    user_id: int | None = None
    stall_id: int | None = None
    stall_code: str | None = None

    @property
    def is_holder(self) -> bool:
        """Whether this is a stall's holder (signed in by the stall's link) rather than staff."""
        return self.role is Role.HOLDER


def allowed(principal: Principal | None, permission: Permission, *, stall_id: int | None = None) -> bool:
    """Whether ``principal`` may do ``permission`` (on the stall ``stall_id``, for the stall-scoped ones).

    Nobody (``None``) may do anything; a holder may do the stall-scoped things of their own stall only.
    """
    if principal is None or permission not in PERMISSIONS[principal.role]:
        return False
    if principal.is_holder:
        return stall_id is not None and stall_id == principal.stall_id
    return True


def staff_principal(*, user_id: int, username: str, full_name: str, role: str, via: AuthMethod) -> Principal:
    """The principal of a staff user signed in by password or token."""
    return Principal(role=Role(role), name=full_name or username, actor=username, via=via, user_id=user_id)


def holder_principal(*, stall_id: int, stall_code: str, holder_name: str | None) -> Principal:
    """The principal of a phone signed in by a stall's link: that stall's holder."""
    return Principal(
        role=Role.HOLDER,
        name=holder_name or stall_code,
        actor=f"stall:{stall_code}",
        via=AuthMethod.LINK,
        stall_id=stall_id,
        stall_code=stall_code,
    )
