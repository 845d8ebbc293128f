"""Builders shared by the matching tests: notifications, a small market's book, bank wrappers.

The wrappers reproduce the shapes in shared/reference/memo-patterns.md §1 (row numbers in names).
"""

import datetime as dt

from market.reconcile.matching import references
from market.reconcile.matching.book import Book, Intent, VirtualAccount
from market.reconcile.notification import Notification

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
ACCOUNTS = {"0100000001": "A-01", "0100000002": "A-02", "0100000003": "B-07"}
ACCOUNT_OF = {stall: account for account, stall in ACCOUNTS.items()}
UNKNOWN_ACCOUNT = "0999999999"

WRAPPERS = {
    "vcb_app (1)": lambda t: f"MBVCB.4530998360.029552.{t}.CT tu 0351000646393 NGUYEN THE HUNG toi 231814973 CHO TG",
    "acb_trailer (2)": lambda t: f"{t} GD 174242-090822 15:45:46",
    "mb_trailer (3)": lambda t: f"{t} FT25321859460704 Ma giao dich Trace866229 Trace 866229",
    "mb_ibft (3)": lambda t: f"IBFT {t} Ma giao dich Trace543496 Trace 543496 NG CHUYEN:CUSTOMER 0827505405",
    "sepay_raw (4)": lambda t: f"BankAPINotify CT DEN:1023456789 ND:{t} SD:12500000",
    "ct_den (5)": lambda t: f"CT DEN:523320101151 {t}",
    "bidv (6)": lambda t: f"SMB-TkThe :0386883005, tai MSCBVNVX. {t} -CTLNHIDI000014950160814-1/1-CRE-002",
    "bidv_nested_vcb (6b)": lambda t: (
        f"TKThe :1027779485, tai Vietcombank. MBVCB.11876304648.447013.{t}.CT tu 1027779445 VU XUAN HUY"
        " toi 4260848540 NGUYEN MINH CHIEN tai BIDV -CTLNHIDI000013514283774-1/1-CRE-002"
    ),
    "bidv_rem (7)": lambda t: f"REM Tfr Ac:5510331733 O@L_040001_212001_0_0_2329539047_035980_{t}",
    "tpbank (8)": lambda t: f"{t} (by TPBank ChatPay)",
    "vcb_statement (9)": lambda t: f"884114.100924.223854.{t}",
    "vietqr (10)": lambda t: f"QR VQR712a7d45ea {t} Ma giao dich Trace756759 Trace 756759",
    "line_wrapped": lambda t: f"MBVCB.4530998360.029552.{t}.CT tu\n0351000646393 NGUYEN\nTHE HUNG toi 231814973",
}


def code(seed: int) -> str:
    """A deterministic valid code."""
    state = [seed]

    def randbelow(n: int) -> int:
        state[0] = (state[0] * 1103515245 + 12345) % 2**31
        return state[0] % n

    return references.new_code(randbelow=randbelow)


def note(
    txn: str,
    amount: int,
    memo: str = "",
    *,
    account: str | None = ACCOUNT_OF["A-01"],
    provider: str = "sepay",
    at: dt.datetime = T0,
    **extra: object,
) -> Notification:
    return Notification(
        provider=provider,  # type: ignore[arg-type]
        provider_txn_id=txn,
        amount=amount,
        direction="in" if amount > 0 else "out",
        memo=memo,
        transferred_at=at,
        received_at=at,
        account_number=account,
        **extra,  # type: ignore[arg-type]
    )


def intent(code_: str, stall: str = "A-01", amount: int = 50_000, minutes: int = 15, paid: int = 0) -> Intent:
    return Intent(code=code_, stall=stall, amount=amount, expires_at=T0 + dt.timedelta(minutes=minutes), paid=paid)


def book(*intents: Intent, **kwargs: object) -> Book:
    kwargs.setdefault("accounts", ACCOUNTS)
    return Book(intents=intents, **kwargs)  # type: ignore[arg-type]


__all__ = [
    "ACCOUNTS",
    "ACCOUNT_OF",
    "T0",
    "UNKNOWN_ACCOUNT",
    "WRAPPERS",
    "VirtualAccount",
    "book",
    "code",
    "intent",
    "note",
]
