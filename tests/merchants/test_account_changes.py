"""Money cannot be redirected by one person, on SQLite and PostgreSQL: a change of a stall's accounts
waits for a second person, the QR pays the old account until then, approval marks the card for a reprint;
the CSV import and the command line follow the same rule."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from market.cli import main
from market.errors import ConflictError, InvalidInputError, NotFoundError
from market.merchants import account_changes, service
from market.merchants.schemas import AccountIn, HolderIn, HolderPatch, StallIn, StallPatch
from market.payments import VietQRRequest, build_vietqr
from market.payments.cards import stall_card

OLD = "6015294400001"
NEW = "6015294499999"
AGRIBANK = "970405"


def _payload(number: str) -> str:
    return build_vietqr(VietQRRequest(bin=AGRIBANK, account=number))


def _card_payload(conn, code: str = "A-12") -> str:
    return stall_card(conn, code, market_name="Chợ").card.payload


@pytest.fixture
def stall(engine):
    """A-12 with one Agribank account, registered by the office."""
    with engine.begin() as conn:
        service.create_stall(
            conn,
            StallIn(
                code="A-12",
                holder=HolderIn(full_name="Nguyễn Thị Đào"),
                accounts=[AccountIn(bank="Agribank", account_number=OLD)],
            ),
            "lan",
        )
    return "A-12"


def _new_accounts(number: str = NEW) -> StallPatch:
    return StallPatch(accounts=[AccountIn(bank="Agribank", account_number=number)])


def _history(conn, code="A-12"):
    return service.stall_history(conn, code).items


def test_an_office_change_is_pending_and_the_qr_pays_the_old_account_until_a_second_person_approves(engine, stall):
    with engine.begin() as conn:
        done = service.update_stall(conn, stall, _new_accounts(), "lan")
    pending = done.pending_change
    assert pending is not None
    assert (pending.state, pending.requested_by, pending.stall) == ("pending", "lan", "A-12")
    assert [a.account_number for a in pending.old_accounts] == [OLD]
    assert [a.account_number for a in pending.new_accounts] == [NEW]
    assert [a.account_number for a in done.stall.accounts] == [OLD]
    with engine.connect() as conn:
        assert _card_payload(conn) == _payload(OLD)
        assert [c.field for c in _history(conn)] == ["created"]  # nothing changed yet

    with engine.begin() as conn:
        approved = account_changes.approve(conn, pending.id, actor="tuan")
    assert (approved.state, approved.decided_by) == ("approved", "tuan")
    with engine.connect() as conn:
        assert _card_payload(conn) == _payload(NEW)
        entry = _history(conn)[0]
        stall_now = service.get_stall(conn, stall)
    assert (entry.field, entry.actor) == ("accounts", "tuan")
    assert entry.old.startswith(f"Agribank {OLD}")
    assert entry.new.startswith(f"Agribank {NEW}")
    assert "lan" in entry.note
    assert "tuan" in entry.note
    assert stall_now.onboarding.card_reprint_needed is True


def test_the_other_fields_of_the_patch_apply_at_once(engine, stall):
    patch = StallPatch(row="Dãy 3", holder=HolderPatch(phone="0912345678"), accounts=_new_accounts().accounts)
    with engine.begin() as conn:
        done = service.update_stall(conn, stall, patch, "lan")
    assert done.pending_change is not None
    assert (done.stall.row, done.stall.holder.phone) == ("Dãy 3", "0912345678")
    assert [a.account_number for a in done.stall.accounts] == [OLD]
    # Sending the accounts the stall already has is no change of accounts at all.
    with engine.begin() as conn:
        same = service.update_stall(conn, stall, _new_accounts(OLD), "lan")
    assert same.pending_change is None


@pytest.mark.parametrize("approver", ["lan", "LAN", "cli:lan"])
def test_the_same_person_cannot_approve_their_own_change(engine, stall, approver):
    with engine.begin() as conn:
        change = account_changes.request_change(conn, stall, _new_accounts().accounts, actor="lan")
    with pytest.raises(ConflictError, match="cannot approve their own change") as raised, engine.begin() as conn:
        account_changes.approve(conn, change.id, actor=approver)
    assert "Người đề nghị không thể tự duyệt" in str(raised.value)
    with engine.connect() as conn:
        assert account_changes.get_change(conn, change.id).state == "pending"
        assert _card_payload(conn) == _payload(OLD)


def test_a_newer_request_supersedes_the_older_which_can_no_longer_be_approved(engine, stall):
    with engine.begin() as conn:
        first = account_changes.request_change(conn, stall, _new_accounts().accounts, actor="lan")
        second = account_changes.request_change(conn, stall, _new_accounts("6015294477777").accounts, actor="lan")
    with engine.connect() as conn:
        old = account_changes.get_change(conn, first.id)
        listed = account_changes.list_changes(conn)
    assert old.state == "superseded"
    assert f"#{second.id}" in old.reason
    assert [c.id for c in listed.items] == [second.id]
    with pytest.raises(ConflictError, match="no longer pending"), engine.begin() as conn:
        account_changes.approve(conn, first.id, actor="tuan")
    with engine.begin() as conn:
        account_changes.approve(conn, second.id, actor="tuan")
        assert _card_payload(conn) == _payload("6015294477777")
    with pytest.raises(ConflictError, match="no longer pending"), engine.begin() as conn:
        account_changes.approve(conn, second.id, actor="hoa")


def test_requests_are_validated_as_a_patch_is(engine, stall):
    with engine.begin() as conn:
        service.create_stall(
            conn,
            StallIn(
                code="B-1",
                holder=HolderIn(full_name="Lê Văn Tám"),
                accounts=[AccountIn(bank="Agribank", account_number="6015294455555")],
            ),
            "lan",
        )
    bad = [AccountIn(bank="970999", account_number="1234 5678")]
    with pytest.raises(InvalidInputError) as raised, engine.begin() as conn:
        account_changes.request_change(conn, stall, bad, actor="lan")
    assert {e.field for e in raised.value.errors} == {"accounts[0].bank", "accounts[0].account_number"}
    with pytest.raises(InvalidInputError, match="no change"), engine.begin() as conn:
        account_changes.request_change(conn, stall, _new_accounts(OLD).accounts, actor="lan")
    with pytest.raises(ConflictError, match="6015294455555"), engine.begin() as conn:
        account_changes.request_change(conn, stall, _new_accounts("6015294455555").accounts, actor="lan")
    with pytest.raises(NotFoundError), engine.begin() as conn:
        account_changes.request_change(conn, "Z-99", _new_accounts().accounts, actor="lan")
    with pytest.raises(NotFoundError), engine.begin() as conn:
        account_changes.approve(conn, 4242, actor="tuan")
    with engine.connect() as conn:
        assert account_changes.list_changes(conn, state="all").total == 0


def test_a_rejected_change_leaves_the_accounts(engine, stall):
    with engine.begin() as conn:
        change = account_changes.request_change(conn, stall, _new_accounts().accounts, actor="lan")
    with pytest.raises(InvalidInputError), engine.begin() as conn:
        account_changes.reject(conn, change.id, actor="tuan", reason="  ")
    with engine.begin() as conn:
        rejected = account_changes.reject(conn, change.id, actor="tuan", reason="Chủ sạp không xác nhận")
    assert (rejected.state, rejected.decided_by, rejected.reason) == ("rejected", "tuan", "Chủ sạp không xác nhận")
    with pytest.raises(ConflictError), engine.begin() as conn:
        account_changes.approve(conn, change.id, actor="tuan")
    with engine.connect() as conn:
        assert _card_payload(conn) == _payload(OLD)


def test_approval_marks_the_card_for_a_reprint_until_a_card_is_issued(engine, stall):
    with engine.begin() as conn:
        service.record_qr_issued(conn, [stall], "lan", on=dt.date(2024, 10, 8))
        change = account_changes.request_change(conn, stall, _new_accounts().accounts, actor="lan")
        assert service.get_stall(conn, stall).onboarding.card_reprint_needed is False
        account_changes.approve(conn, change.id, actor="tuan")
        assert service.get_stall(conn, stall).onboarding.card_reprint_needed is True
        # The card printed again: "QR issued" keeps its first date, the reprint flag goes.
        assert service.record_qr_issued(conn, [stall], "lan", on=dt.date(2024, 11, 1)) == []
        assert service.get_stall(conn, stall).onboarding.card_reprint_needed is False


def test_with_approval_off_a_change_applies_at_once_and_the_history_says_so(engine, stall):
    with engine.begin() as conn:
        waiting = account_changes.request_change(conn, stall, _new_accounts("6015294477777").accounts, actor="hoa")
        done = service.update_stall(conn, stall, _new_accounts(), "lan", approval=False)
    assert done.pending_change is None
    assert [a.account_number for a in done.stall.accounts] == [NEW]
    assert done.stall.onboarding.card_reprint_needed is True
    with engine.connect() as conn:
        assert _card_payload(conn) == _payload(NEW)
        entry = _history(conn)[0]
        assert account_changes.get_change(conn, waiting.id).state == "superseded"
    assert (entry.field, entry.actor) == ("accounts", "lan")
    assert entry.note == account_changes.APPLIED_WITHOUT_APPROVAL
    assert "without a second person's approval" in entry.note


# --- the CSV import and the command line --------------------------------------------------------

HEADER = "Mã sạp;Họ tên;Ngân hàng;Số tài khoản;Dãy"


def _csv(tmp_path, rows, name="so.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def market(database_url, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    monkeypatch.setattr("getpass.getuser", lambda: "tuan")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["merchants", *[str(a) for a in args]])

    return run


def test_an_imported_change_of_accounts_is_pending_and_approved_from_the_command_line(market, tmp_path, engine):
    first = market("import", _csv(tmp_path, [f"A-1;Nguyễn Thị Đào;Agribank;{OLD};Dãy 1"]), "--user", "lan")
    assert first.exit_code == 0, first.output  # a new stall takes its accounts at once
    rows = [f"A-1;Nguyễn Thị Đào;Agribank;{NEW};Dãy 2", "B-1;Lê Văn Tám;Agribank;6015294455555;"]
    dry = market("import", _csv(tmp_path, rows, "v2.csv"), "--dry-run", "--user", "lan")
    assert dry.exit_code == 0, dry.output
    assert "dòng 2: sạp A-01: tài khoản mới chờ người thứ hai duyệt" in dry.output
    result = market("import", _csv(tmp_path, rows, "v2.csv"), "--user", "lan")
    assert result.exit_code == 0, result.output
    assert "dòng 2: sạp A-01: tài khoản mới chờ người thứ hai duyệt" in result.output
    assert "thêm 1, cập nhật 1" in result.output
    with engine.connect() as conn:
        a1 = service.get_stall(conn, "A-1")
        (change,) = account_changes.list_changes(conn).items
    assert a1.row == "Dãy 2"  # the row's other fields applied
    assert [a.account_number for a in a1.accounts] == [OLD]
    assert f"#{change.id}" in result.output

    listed = market("changes", "--stall", "a1")
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith(f"#{change.id}\tA-01\tpending\tlan\t")
    assert NEW in listed.output

    approved = market("approve", change.id)
    assert approved.exit_code == 0, approved.output
    assert "cần in lại thẻ QR" in approved.output
    with engine.connect() as conn:
        assert _card_payload(conn, "A-1") == _payload(NEW)
        assert account_changes.get_change(conn, change.id).decided_by == "cli:tuan"
    again = market("approve", change.id)
    assert again.exit_code == 2
    assert again.output.count("\n") == 1
    assert "no longer pending" in again.output
    assert market("approve", 999).exit_code == 2
    assert "no account changes" in market("changes").output


def test_the_command_line_operator_cannot_approve_their_own_import(market, tmp_path, engine):
    assert market("import", _csv(tmp_path, [f"A-1;Nguyễn Thị Đào;Agribank;{OLD};"])).exit_code == 0
    assert market("import", _csv(tmp_path, [f"A-1;Nguyễn Thị Đào;Agribank;{NEW};"], "v2.csv")).exit_code == 0
    with engine.connect() as conn:
        (change,) = account_changes.list_changes(conn).items
    assert change.requested_by == "tuan"
    refused = market("approve", change.id)
    assert refused.exit_code == 2
    assert "cannot approve their own change" in refused.output
    rejected = market("reject", change.id, "--reason", "nhập nhầm")
    assert rejected.exit_code == 0, rejected.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT state FROM account_changes")).scalar_one() == "rejected"
