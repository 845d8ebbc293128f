"""What each adoption figure means: the text users read in the API, the reports and the CLI.

Every figure is a count of stalls (or receipts) over a stated denominator, never a bare
percentage. The definitions follow the commune's "Xã hội số" indicators and the GSMA-style
"active in the last 30 / 90 days" rule.

Rules common to every figure (also rendered as :data:`RULES`):

- **Windows are local days** (Asia/Ho_Chi_Minh) ending on the "as of" day, inclusive: the
  30-day window as of 31/03 is 02/03 … 31/03. A receipt exactly 30 days old (dated 01/03)
  is *outside* it; one dated 02/03 is inside.
- **A receipt counts** when the ledger attributed it to the stall and it still stands:
  a sale, a partial payment, an overpayment, a late payment and a *duplicate payment* (the
  customer paid twice: the money did reach the stall, so it shows the stall takes cashless
  payments, even though one copy is flagged for refund). A reversed sale and the reversal
  itself do not count. A notification delivered twice (retry, or two providers) is one
  receipt: figures count the ledger's receipts, never the raw journal.
- **The denominator** is the stalls trading ("đang kinh doanh") on the "as of" day;
  stalls paused or gone are left out of every figure, their receipts too. The registry keeps
  the current status and the day it took effect: before that day a stall now paused or gone
  is taken as trading, and a stall now trading as not yet trading. A stall registered after
  the "as of" day is not counted at all.
- Bank account, payment app and "QR displayed" are the registry's current answers (what
  the stall holder or the market office recorded); "QR issued" uses the issue date.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "DEFINITIONS",
    "FUNNEL",
    "REGULAR_MIN_DAYS",
    "REGULAR_WINDOW_DAYS",
    "RULES",
    "TARGETS",
    "Definition",
    "Target",
    "definition",
    "transacting_key",
]

# "Regular" = cashless receipts on at least 8 distinct days of the last 30: about two market
# days a week, which separates routine use from the occasional transfer.
REGULAR_MIN_DAYS = 8
REGULAR_WINDOW_DAYS = 30


class Definition(msgspec.Struct, frozen=True, kw_only=True):
    """One indicator: its names, what is counted above and below the line, and how."""

    key: str
    name: str
    name_en: str
    numerator: str
    denominator: str
    explanation: str


_ACTIVE = "số sạp đang kinh doanh"


def transacting_key(days: int) -> str:
    """The key of the "transacting in the last ``days`` days" indicator (``transacting_30d``)."""
    return f"transacting_{days}d"


def _transacting(days: int) -> Definition:
    return Definition(
        key=transacting_key(days),
        name=f"Tỷ lệ tiểu thương có giao dịch không dùng tiền mặt trong {days} ngày",
        name_en=f"Stalls with a cashless receipt in the last {days} days",
        numerator=f"số sạp có ít nhất 1 khoản thu chuyển khoản đã đối soát trong {days} ngày gần nhất",
        denominator=_ACTIVE,
        explanation=(
            f"Đo bởi hệ thống từ dữ liệu đối soát: {days} ngày theo giờ Việt Nam, tính cả ngày chốt số liệu. "
            f"Measured: at least one matched cashless receipt in the {days} local days ending on the as-of day."
        ),
    )


DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        key="active",
        name="Sạp đang kinh doanh",
        name_en="Registered stalls trading",
        numerator=_ACTIVE,
        denominator="số sạp trong sổ đăng ký (đang kinh doanh và tạm ngưng)",
        explanation="Sạp tạm ngưng được báo riêng / paused stalls are shown apart and left out of the other figures.",
    ),
    Definition(
        key="bank_account",
        name="Tỷ lệ tiểu thương có tài khoản ngân hàng",
        name_en="Stalls whose holder has a bank account",
        numerator="số sạp có tài khoản ngân hàng",
        denominator=_ACTIVE,
        explanation="Theo sổ đăng ký (tự khai) / as recorded in the registry (self-reported).",
    ),
    Definition(
        key="payment_app",
        name="Tỷ lệ tiểu thương có ứng dụng thanh toán",
        name_en="Stalls whose holder has a banking or e-wallet app",
        numerator="số sạp có ứng dụng ngân hàng hoặc ví điện tử",
        denominator=_ACTIVE,
        explanation="Theo sổ đăng ký (tự khai) / as recorded in the registry (self-reported).",
    ),
    Definition(
        key="qr_issued",
        name="Tỷ lệ tiểu thương đã được cấp mã QR",
        name_en="Stalls issued a VietQR code",
        numerator="số sạp đã được cấp mã QR đến ngày chốt số liệu",
        denominator=_ACTIVE,
        explanation="Theo ngày cấp mã trong sổ đăng ký / by the issue date in the registry.",
    ),
    Definition(
        key="qr_displayed",
        name="Tỷ lệ tiểu thương niêm yết mã QR",
        name_en="Stalls displaying their QR code (acceptance)",
        numerator="số sạp đã được cấp và đang niêm yết mã QR",
        denominator=_ACTIVE,
        explanation="Tự khai hoặc Ban quản lý ghi nhận / self-reported or recorded by the market office.",
    ),
    _transacting(30),
    _transacting(90),
    Definition(
        key="regular",
        name="Tỷ lệ tiểu thương giao dịch không dùng tiền mặt thường xuyên",
        name_en=f"Stalls with cashless receipts on ≥ {REGULAR_MIN_DAYS} distinct days of the last 30",
        numerator=f"số sạp có khoản thu chuyển khoản vào ít nhất {REGULAR_MIN_DAYS} ngày khác nhau trong 30 ngày",
        denominator=_ACTIVE,
        explanation="Đo bởi hệ thống / measured: distinct local days with a counted receipt, last 30 days.",
    ),
    Definition(
        key="receipts_per_stall",
        name="Số khoản thu không dùng tiền mặt bình quân một sạp",
        name_en="Cashless receipts per trading stall in the window",
        numerator="tổng số khoản thu chuyển khoản được tính trong kỳ",
        denominator=_ACTIVE,
        explanation="Khoản thu bị hoàn không được tính / reversed receipts are not counted.",
    ),
    Definition(
        key="value_per_stall",
        name="Giá trị thu không dùng tiền mặt bình quân một sạp (đồng)",
        name_en="Cashless value per trading stall in the window (đồng)",
        numerator="tổng số tiền thu chuyển khoản được tính trong kỳ",
        denominator=_ACTIVE,
        explanation="Đơn vị: đồng / whole đồng.",
    ),
)

_BY_KEY = {d.key: d for d in DEFINITIONS}


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """A target share in percent and where it comes from (the basis is kept with the number)."""

    percent: float
    basis: str


# Default targets of the commune report. The province's own thresholds (QĐ 1993/QĐ-UBND) could not
# be found, so these are published local practice, each replaceable
# with ``market report target set``.
TARGETS: dict[str, Target] = {
    "bank_account": Target(percent=100, basis="Thực tiễn xã NTM thông minh: 100% tiểu thương có tài khoản"),
    "payment_app": Target(percent=100, basis="Thực tiễn xã NTM thông minh: 100% tiểu thương có tài khoản"),
    "qr_displayed": Target(percent=100, basis="Mô hình chợ 4.0 Nghĩa Hưng: 100% tiểu thương được trang bị mã QR"),
    "transacting_30d": Target(percent=80, basis="Mô hình chợ 4.0 Nam Định: trên 80% tiểu thương thanh toán số"),
}

# The funnel from being on the register to paying routinely; each step counts the
# stalls that reached it *and every step before it*, so it only narrows.
FUNNEL: tuple[tuple[str, str], ...] = (
    ("active", "Đang kinh doanh / trading"),
    ("bank_account", "Có tài khoản ngân hàng / bank account"),
    ("qr_issued", "Đã cấp mã QR / QR issued"),
    ("qr_displayed", "Niêm yết mã QR / QR displayed"),
    ("transacting", "Có giao dịch trong kỳ / transacting"),
    ("regular", "Giao dịch thường xuyên / regular"),
)

RULES: tuple[str, ...] = (
    "Kỳ đo tính theo ngày giờ Việt Nam, kết thúc ở ngày chốt số liệu và tính cả ngày đó: 30 ngày đến 31/03 là "
    "02/03–31/03; khoản thu đúng 30 ngày trước (01/03) không được tính. / Windows are local days ending on the "
    "as-of day inclusive; a receipt exactly 30 days old is outside the 30-day window.",
    "Khoản thu được tính: bán hàng, trả một phần, trả thừa, trả muộn và khách trả trùng (tiền đã về sạp, chờ hoàn). "
    "Không tính: khoản đã bị hoàn và bút toán hoàn. Một thông báo gửi nhiều lần chỉ là một khoản thu. / Counted: "
    "every receipt that still stands, a paid-twice duplicate included; a reversed sale and its reversal are not.",
    "Mẫu số là số sạp đang kinh doanh tại ngày chốt; sạp tạm ngưng hoặc đã nghỉ không được tính (cả khoản thu của "
    "sạp đó). / The denominator is the stalls trading on the as-of day; paused and departed stalls are left out.",
    "Tài khoản, ứng dụng và niêm yết QR là thông tin hiện tại trong sổ đăng ký (tự khai). / Bank account, app and "
    "QR displayed are the registry's current, self-reported answers.",
)


def definition(key: str) -> Definition:
    """The definition of indicator ``key`` (``transacting_Nd`` for any window ``N``)."""
    found = _BY_KEY.get(key)
    if found is not None:
        return found
    if key.startswith("transacting_") and key.endswith("d") and key[12:-1].isdigit():
        return _transacting(int(key[12:-1]))
    raise KeyError(key)
