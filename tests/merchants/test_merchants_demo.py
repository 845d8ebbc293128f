"""``market demo --no-serve`` builds a registry in the seed article's proportions (reporting.md §1.4)."""

import sqlalchemy as sa
from click.testing import CliRunner

from market.cli import main


def test_demo_builds_about_120_stalls_in_the_seeds_proportions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MARKET_DATABASE_URL", "sqlite:///unused.db")  # the demo sets its own; restored after
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'market.db'}")
    with engine.connect() as conn:
        stalls = conn.execute(
            sa.text(
                "SELECT s.code, s.zone, s.has_bank_account, s.qr_displayed, s.no_cashless_reason, "
                "(SELECT count(*) FROM stall_accounts a WHERE a.stall_id = s.id AND a.is_default) AS defaults "
                "FROM stalls s"
            )
        ).all()
        banks = conn.execute(sa.text("SELECT DISTINCT bank_bin FROM stall_accounts")).scalars().all()
    engine.dispose()
    assert 110 <= len(stalls) <= 130
    assert len({s.zone for s in stalls}) >= 4
    # 100 % have a bank account, with exactly one default account for the card.
    assert all(s.has_bank_account and s.defaults == 1 for s in stalls)
    qr_share = sum(bool(s.qr_displayed) for s in stalls) / len(stalls)
    assert 0.65 <= qr_share <= 0.75
    # The rest mostly do not because their trade is small or irregular.
    reasons = [s.no_cashless_reason for s in stalls if not s.qr_displayed]
    assert all(reasons)
    assert reasons.count("small_irregular") > len(reasons) / 2
    # Agribank, BIDV, Vietcombank, VietinBank among the banks; MoMo as a wallet.
    assert {"970405", "970418", "970436", "970415", "971025"} <= set(banks)
