"""A stall holder's link: signs a phone in to that one stall; revoking signs the phones out."""

import pytest
from access_helpers import POLICY, T0, add_stalls, stored_text

from market.access import links, sessions, signin
from market.access.roles import Permission, Role, allowed
from market.errors import NotFoundError


def test_a_link_signs_a_phone_in_to_its_stall_only(engine):
    stall_codes = add_stalls(engine)
    first, second, _ = stall_codes
    with engine.begin() as conn:
        info, token = links.create_link(conn, first.lower(), actor="cli:root")
        signed = signin.sign_in_by_link(conn, token, address="10.0.0.9", policy=POLICY, now=T0)
        text = stored_text(conn)
        other_id = conn.exec_driver_sql(f"SELECT id FROM stalls WHERE code = '{second}'").scalar_one()
    assert info.stall_code == first
    assert links.link_path(token) == f"/s/{token}"
    assert token not in text
    assert signed is not None
    principal, cookie = signed
    assert cookie not in text
    assert principal.role is Role.HOLDER
    assert principal.actor == f"stall:{first}"
    assert allowed(principal, Permission.STALL_STREAM, stall_id=principal.stall_id)
    assert not allowed(principal, Permission.STALL_STREAM, stall_id=other_id)


def test_the_phone_stays_signed_in_for_the_link_days_without_an_idle_end(engine):
    stall_codes = add_stalls(engine)
    with engine.begin() as conn:
        _, token = links.create_link(conn, stall_codes[0], actor="test")
        _, cookie = signin.sign_in_by_link(conn, token, address="", policy=POLICY, now=T0)
        assert sessions.resolve_session(conn, cookie, POLICY, now=T0 + POLICY.link_age / 2) is not None
        assert sessions.resolve_session(conn, cookie, POLICY, now=T0 + POLICY.link_age) is None


def test_revoking_a_stalls_links_signs_its_phones_out(engine):
    stall_codes = add_stalls(engine)
    first, second, _ = stall_codes
    with engine.begin() as conn:
        _, token_a = links.create_link(conn, first, actor="test")
        _, token_b = links.create_link(conn, first, actor="test")
        _, token_other = links.create_link(conn, second, actor="test")
        phones = [signin.sign_in_by_link(conn, t, address="", policy=POLICY, now=T0)[1] for t in (token_a, token_b)]
        other_phone = signin.sign_in_by_link(conn, token_other, address="", policy=POLICY, now=T0)[1]
        assert links.revoke_links(conn, first, actor="cli:root") == 2
        assert links.revoke_links(conn, first, actor="cli:root") == 0
        for phone in phones:
            assert sessions.resolve_session(conn, phone, POLICY, now=T0) is None
        assert signin.sign_in_by_link(conn, token_a, address="", policy=POLICY, now=T0) is None
        # Another stall's phone is untouched.
        assert sessions.resolve_session(conn, other_phone, POLICY, now=T0) is not None
        listed = links.list_links(conn, first)
    assert len(listed) == 2
    assert all(link.revoked_at is not None for link in listed)


def test_unknown_stalls_and_tokens(engine):
    add_stalls(engine)
    with engine.begin() as conn:
        with pytest.raises(NotFoundError, match="no stall"):
            links.create_link(conn, "Z-99", actor="test")
        with pytest.raises(NotFoundError):
            links.revoke_links(conn, "not a code", actor="test")
        assert signin.sign_in_by_link(conn, "made-up", address="", policy=POLICY, now=T0) is None
        assert links.find_active_link(conn, "") is None
