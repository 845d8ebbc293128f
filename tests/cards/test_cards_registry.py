"""From registry stalls to cards, on SQLite and PostgreSQL: which account, which stalls, in which order,
and the "QR issued" record."""

from __future__ import annotations

import datetime as dt

import pytest
from cards_helpers import add_stall, qr_issued_entries, static_payload

from market.errors import ConflictError, NotFoundError
from market.merchants import service
from market.merchants.schemas import AccountIn
from market.payments.cards import select_cards, stall_card

MARKET = "Chợ Thoại Giang"


def test_card_shows_the_stall_and_its_default_account(engine):
    with engine.begin() as conn:
        add_stall(
            conn,
            "A-12",
            name="Lê Thị Hồng Nhung",
            accounts=[
                AccountIn(bank="MoMo", account_number="0912345678"),
                AccountIn(bank="Vietcombank", account_number="0071000123456", is_default=True),
            ],
        )
        found = stall_card(conn, "sạp a12", market_name=MARKET)
    card = found.card
    assert card.payload == static_payload("0071000123456", bank_bin="970436")
    assert (card.market_name, card.stall_code, card.zone) == (MARKET, "A-12", "A")
    assert card.holder_name == "Lê Thị Hồng Nhung"  # with its diacritics
    assert (card.bank_short_name, card.account_number) == ("Vietcombank", "0071000123456")
    assert card.account_holder == "LE THI HONG NHUNG"
    assert (card.amount, card.content, found.qr_issued_on) == (None, None, None)


def test_fixed_content_is_shown_as_the_payer_will_see_it(engine):
    with engine.begin() as conn:
        add_stall(conn, "A-12")
        card = stall_card(conn, "A-12", market_name=MARKET, amount=35000, content="  Bún   riêu ").card
    assert (card.amount, card.content) == (35000, "Bun rieu")


def test_a_momo_default_account_is_a_conflict_naming_the_stall(engine):
    with engine.begin() as conn:
        add_stall(conn, "D-02", accounts=[AccountIn(bank="MoMo", account_number="0912345678")])
        with pytest.raises(ConflictError, match=r"D-02.*MoMo 0912345678"):
            stall_card(conn, "D-02", market_name=MARKET)


def test_whole_market_sheet_skips_stalls_that_left_and_lists_those_without_account(engine):
    with engine.begin() as conn:
        add_stall(conn, "B-02", n=2, row="Dãy 1")
        add_stall(conn, "A-10", n=10, row="Dãy 2")
        add_stall(conn, "A-03", n=3, row="Dãy 2")
        add_stall(conn, "A-01", n=1, row="Dãy 11")
        add_stall(conn, "A-02", accounts=[])
        add_stall(conn, "C-01", n=31, status="left")
        add_stall(conn, "C-02", n=32, status="paused")
        selection = select_cards(conn, market_name=MARKET)
    assert [card.stall_code for card in selection.cards] == ["A-03", "A-10", "A-01", "B-02", "C-02"]
    assert selection.without_account == ["A-02"]


def test_zone_plus_listed_stalls_each_once(engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
        add_stall(conn, "B-01", n=2)
        add_stall(conn, "B-02", n=3)
        add_stall(conn, "C-01", n=4)
        selection = select_cards(conn, market_name=MARKET, zone=" b ", codes=["a1", "A-01", "B 2"])
    assert [card.stall_code for card in selection.cards] == ["A-01", "B-01", "B-02"]


def test_a_listed_stall_without_card_is_an_error_naming_it(engine):
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
        add_stall(conn, "A-02", accounts=[])
        add_stall(conn, "A-03", n=3, status="left")
        with pytest.raises(ConflictError, match="A-02"):
            select_cards(conn, market_name=MARKET, codes=["A-01", "A-02"])
        with pytest.raises(ConflictError, match="A-03"):
            select_cards(conn, market_name=MARKET, codes=["A-03"])
        with pytest.raises(NotFoundError, match="Z-09"):
            select_cards(conn, market_name=MARKET, codes=["A-01", "Z-9"])
        with pytest.raises(NotFoundError, match="Q"):
            select_cards(conn, market_name=MARKET, zone="Q")


def test_record_qr_issued_once_per_stall(engine):
    first, later = dt.date(2025, 3, 8), dt.date(2025, 4, 1)
    with engine.begin() as conn:
        add_stall(conn, "A-01", n=1)
        add_stall(conn, "A-02", n=2, qr_issued_on="2024-10-08")
        assert service.record_qr_issued(conn, ["a1", "A-02"], "cô Lan", first) == ["A-01"]
        assert service.record_qr_issued(conn, ["A-01", "A-02"], "anh Tâm", later) == []
        assert service.get_stall(conn, "A-01").onboarding.qr_issued_on == first
        assert service.get_stall(conn, "A-02").onboarding.qr_issued_on == dt.date(2024, 10, 8)
        (entry,) = qr_issued_entries(conn, "A-01")
        assert (entry.actor, entry.old, entry.new) == ("cô Lan", None, "2025-03-08")
        assert qr_issued_entries(conn, "A-02") == []
        with pytest.raises(NotFoundError, match="Z-09"):
            service.record_qr_issued(conn, ["A-01", "Z-09"], "x", first)
