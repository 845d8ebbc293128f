"""The web's words: Vietnamese first, English second, for every page and every label the API returns.

Every string a page shows lives in :data:`STRINGS` as ``key: (Vietnamese, English)``; the
Vietnamese text is the source. The domain returns codes (a registry vocabulary's, a review
reason's); :class:`Translator` gives their words in the visitor's language. A visitor picks
English with ``?lang=en`` (and back with ``?lang=vi``); the choice is kept in the ``lang`` cookie
so that every later page follows it.

Money, numbers and dates are written the Vietnamese way in both languages (:mod:`market.formats`);
times on a 24-hour clock in the market's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

from market.formats import date_vi
from market.merchants.vocab import (
    ACCOUNT_KINDS,
    CATEGORIES,
    FREQUENCIES,
    NO_CASHLESS_REASONS,
    ONBOARDING_STATES,
    STATUSES,
    Vocabulary,
)
from market.reconcile import reasons

__all__ = [
    "LANGS",
    "LANG_COOKIE",
    "STRINGS",
    "Lang",
    "Translator",
    "bilingual",
    "choose_lang",
    "datetime_local",
    "time_local",
]

Lang = Literal["vi", "en"]
LANGS: Final[tuple[Lang, ...]] = ("vi", "en")
LANG_COOKIE: Final = "lang"

_S = dict[str, tuple[str, str]]

_COMMON: _S = {
    "lang.switch": ("English", "Tiếng Việt"),
    "nav.home": ("Trang chủ", "Home"),
    "nav.stalls": ("Danh sách sạp", "Stalls"),
    "nav.review": ("Đối soát", "Reconciliation"),
    "nav.report": ("Báo cáo", "Reports"),
    "skip": ("Bỏ qua, tới nội dung", "Skip to content"),
    "stall": ("Sạp", "Stall"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "none": ("—", "—"),
    "back": ("Quay lại", "Back"),
}

_HOME: _S = {
    "home.title": ("Chợ không dùng tiền mặt", "Cashless market"),
    "home.lead": (
        "Mã QR cho từng sạp, báo nhận tiền tức thì, và số liệu thật về thanh toán không dùng tiền mặt.",
        "A QR code for every stall, instant payment alerts, and real figures on cashless trading.",
    ),
    "home.merchant": ("Tiểu thương", "Stall holders"),
    "home.merchant.text": ("Nhập mã sạp để xem mã QR và màn hình nhận tiền.", "Enter your stall code."),
    "home.merchant.field": ("Mã sạp (ví dụ A-12)", "Stall code (e.g. A-12)"),
    "home.merchant.go": ("Mở", "Open"),
    "home.manage": ("Ban quản lý chợ", "Market management"),
    "home.manage.text": ("Sổ đăng ký sạp, in thẻ QR, đối soát giao dịch.", "Stall registry, QR cards, review."),
    "home.commune": ("UBND xã, Tổ công nghệ số", "Commune, digital team"),
    "home.commune.text": ("Số liệu Xã hội số, báo cáo và danh sách đi thăm.", "Digital-society figures, reports."),
    "home.summary": ("Tình hình hôm nay", "At a glance"),
    "home.summary.none": ("Chưa có số liệu.", "No figures yet."),
    "home.summary.sign_in": ("Đăng nhập để xem số liệu.", "Sign in to see the figures."),
}

_STALL: _S = {
    "stall.title": ("Sạp {code}", "Stall {code}"),
    "stall.live": ("Màn hình nhận tiền", "Payment screen"),
    "stall.live.hint": ("Mở khi bán hàng: máy đọc to mỗi khoản tiền nhận được.", "Reads out every payment."),
    "stall.qr": ("Mã QR của sạp", "The stall's QR code"),
    "stall.qr.alt": ("Mã VietQR của sạp {code}", "VietQR code of stall {code}"),
    "stall.card": ("Thẻ QR để in", "Printable QR card"),
    "stall.card.alt": ("Thẻ VietQR của sạp {code}", "VietQR card of stall {code}"),
    "stall.card.pdf": ("Tải thẻ (PDF)", "Download card (PDF)"),
    "stall.card.png": ("Tải thẻ (ảnh)", "Download card (image)"),
    "stall.account": ("Tài khoản nhận tiền", "Receiving account"),
    "stall.bank": ("Ngân hàng", "Bank"),
    "stall.number": ("Số tài khoản", "Account number"),
    "stall.holder_name": ("Chủ tài khoản", "Account holder"),
    "stall.no_account": (
        "Sạp chưa có tài khoản nhận tiền. Liên hệ Ban quản lý chợ.",
        "No receiving account yet. Please contact market management.",
    ),
    "stall.left": ("Sạp đã ngưng kinh doanh.", "This stall has stopped trading."),
}

_LIVE: _S = {
    "live.title": ("Nhận tiền · Sạp {code}", "Payments · Stall {code}"),
    "live.sound": ("Bật âm thanh", "Turn on sound"),
    "live.sound.on": ("Đã bật âm thanh", "Sound is on"),
    "live.state.connecting": ("Đang kết nối…", "Connecting…"),
    "live.state.open": ("Đã kết nối", "Connected"),
    "live.state.lost": ("Mất kết nối — đang thử lại", "Connection lost — retrying"),
    "live.waiting": ("Đang chờ khoản tiền mới…", "Waiting for payments…"),
    "live.today": ("Hôm nay", "Today"),
    "live.count": ("{count} khoản", "{count} payments"),
    "live.payer.unknown": ("Người chuyển không rõ tên", "Payer not named"),
    "live.reversal": ("Hoàn tiền", "Refund"),
    "live.say": ("Đã nhận {words} đồng", "Received {amount} dong"),
    "live.say.reversal": ("Hoàn lại {words} đồng", "Refunded {amount} dong"),
    "live.note": (
        "Chỉ tin khoản tiền hiện trên màn hình này, không tin ảnh chụp chuyển khoản.",
        "Trust only payments shown here, never a screenshot of a transfer.",
    ),
}

_MANAGE: _S = {
    "manage.title": ("Danh sách sạp", "Stalls"),
    "manage.search": ("Tìm (mã sạp, tên, số điện thoại)", "Search (code, name, phone)"),
    "manage.zone": ("Khu", "Zone"),
    "manage.category": ("Ngành hàng", "Category"),
    "manage.status": ("Tình trạng", "Status"),
    "manage.onboarding": ("Mã QR", "QR"),
    "manage.all": ("Tất cả", "All"),
    "manage.filter": ("Lọc", "Filter"),
    "manage.clear": ("Xóa bộ lọc", "Clear"),
    "manage.found": ("{total} sạp", "{total} stalls"),
    "manage.empty": ("Không có sạp nào khớp.", "No stall matches."),
    "manage.holder": ("Tiểu thương", "Holder"),
    "manage.phone": ("Điện thoại", "Phone"),
    "manage.prev": ("← Trang trước", "← Previous"),
    "manage.next": ("Trang sau →", "Next →"),
    "manage.page": ("Trang {page}/{pages}", "Page {page} of {pages}"),
    "manage.print": ("In thẻ QR (PDF)", "Print QR cards (PDF)"),
    "manage.print.zone": ("In thẻ khu {zone}", "Print zone {zone} cards"),
    "manage.details": ("Thông tin sạp", "Stall details"),
    "manage.area": ("Diện tích", "Area"),
    "manage.frequency": ("Tần suất buôn bán", "Trading frequency"),
    "manage.zalo": ("Zalo", "Zalo"),
    "manage.accounts": ("Tài khoản thanh toán", "Payment accounts"),
    "manage.default": ("mặc định", "default"),
    "manage.bank_account": ("Có tài khoản ngân hàng", "Has a bank account"),
    "manage.payment_app": ("Có ứng dụng thanh toán", "Has a payment app"),
    "manage.qr_issued_on": ("Ngày cấp mã QR", "QR issued on"),
    "manage.mark_issued": ("Đã trao thẻ QR", "Mark the card as issued"),
    "manage.qr_displayed": ("Đã niêm yết mã QR", "QR displayed"),
    "manage.reason": ("Lý do chưa dùng", "Reason not using"),
    "manage.links": ("Mã QR và thẻ", "QR and card"),
    "manage.stall_page": ("Trang của tiểu thương", "Stall holder's page"),
    "manage.payments": ("Khoản thu gần đây", "Recent payments"),
    "manage.payments.none": ("Chưa có khoản thu nào.", "No payments yet."),
    "manage.history": ("Lịch sử thay đổi", "Change history"),
    "manage.history.none": ("Chưa có thay đổi.", "No changes."),
    "manage.when": ("Thời gian", "When"),
    "manage.who": ("Người sửa", "By"),
    "manage.field": ("Mục", "Field"),
    "manage.old": ("Cũ", "Old"),
    "manage.new": ("Mới", "New"),
    "manage.amount": ("Số tiền", "Amount"),
    "manage.payer": ("Người chuyển", "Payer"),
    "manage.memo": ("Nội dung chuyển khoản", "Transfer memo"),
}

_REVIEW: _S = {
    "review.title": ("Giao dịch chưa khớp", "Unmatched payments"),
    "review.lead": (
        "Khoản tiền hệ thống chưa gán được cho sạp nào. Chọn sạp đúng hoặc đánh dấu không phải của chợ.",
        "Payments the system could not attribute. Choose the right stall, or mark them as not ours.",
    ),
    "review.empty": ("Không có giao dịch nào chờ xử lý.", "Nothing waiting for review."),
    "review.count": ("{count} giao dịch chờ xử lý", "{count} waiting"),
    "review.reason": ("Lý do", "Reason"),
    "review.suggestions": ("Gợi ý", "Suggestions"),
    "review.decide": ("Tiền này của ai?", "Whose money is this?"),
    "review.other": ("Sạp khác:", "Another stall:"),
    "review.stall_field": ("Mã sạp", "Stall code"),
    "review.not_ours": ("Không phải tiền của chợ", "Not the market's money"),
    "review.note": ("Lý do quyết định (bắt buộc)", "Reason for the decision (required)"),
    "review.save": ("Lưu quyết định", "Save decision"),
    "review.done": ("Đã xử lý", "Resolved"),
    "review.failed": ("Không lưu được", "Could not save"),
}

_REPORT: _S = {
    "report.title": ("Số liệu thanh toán không dùng tiền mặt", "Cashless payment figures"),
    "report.as_of": ("Số liệu chốt ngày {day}, kỳ {window} ngày", "As of {day}, {window}-day window"),
    "report.indicator": ("Chỉ tiêu", "Indicator"),
    "report.result": ("Kết quả (tử số/mẫu số)", "Result (numerator/denominator)"),
    "report.rate": ("Tỷ lệ", "Rate"),
    "report.by_zone": ("Theo khu", "By zone"),
    "report.by_category": ("Theo ngành hàng", "By category"),
    "report.group": ("Nhóm", "Group"),
    "report.active": ("Sạp đang kinh doanh", "Trading stalls"),
    "report.transacting": ("Có giao dịch {window} ngày", "Receipt in {window} days"),
    "report.displayed": ("Niêm yết QR", "QR displayed"),
    "report.downloads": ("Tải báo cáo", "Download reports"),
    "report.commune": ("Báo cáo Xã hội số cho UBND xã", "Commune digital-society report"),
    "report.period": ("Kỳ báo cáo (tháng)", "Reporting month"),
    "report.visits": ("Danh sách sạp cần đến thăm (Tổ công nghệ số)", "Stalls to visit (digital team)"),
}

# Review reasons and suggestion grounds, by code (market.reconcile.reasons).
_REASONS: _S = {
    reasons.UNKNOWN_ACCOUNT: (
        "Tiền vào tài khoản không thuộc sạp nào và không có mã",
        "Money into no stall's account, no code",
    ),
    reasons.STALL_CONFLICT: (
        "Mã của sạp khác với tài khoản nhận",
        "The code belongs to another stall than the account",
    ),
    reasons.AMBIGUOUS_CODE: ("Mã gõ sai, gần giống nhiều đơn", "A mistyped code close to several open intents"),
    reasons.SEVERAL_CODES: ("Nhiều mã trong một lần chuyển", "Several codes in one transfer"),
    reasons.AMBIGUOUS_REVERSAL: ("Tiền ra khớp nhiều giao dịch đã nhận", "Money out matching several receipts"),
    reasons.MANUAL_TARGET_MISSING: (
        "Quyết định thủ công chỉ đến đơn không còn",
        "A manual decision names a missing intent",
    ),
    reasons.PROVIDER_STATUS: ("Nhà cung cấp báo giao dịch lỗi", "The provider reported the transfer as failed"),
    reasons.SAME_NOTIFICATION: ("Thông báo đã nhận rồi", "This notification was already processed"),
    reasons.SAME_BANK_REFERENCE: (
        "Cùng giao dịch ngân hàng, báo qua kênh khác",
        "The same bank credit via another provider",
    ),
    reasons.CODE_OWNER: ("Sạp của mã trong nội dung", "The stall the code belongs to"),
    reasons.ACCOUNT_OWNER: ("Sạp chủ tài khoản nhận", "The stall that owns the receiving account"),
    reasons.ONE_EDIT: ("Mã chỉ khác một ký tự", "The code differs by one character"),
    reasons.ONE_EDIT_AMOUNT: ("Mã khác một ký tự, đúng số tiền", "One character off, and the amount matches"),
    reasons.RECEIPT: ("Giao dịch đã nhận từ cùng người chuyển", "An earlier receipt from the same payer"),
    reasons.PAYER_HISTORY: ("Người chuyển này đã trả tiền cho sạp này", "This payer has paid this stall before"),
}

_ERRORS: _S = {
    "error.404.title": ("Không tìm thấy", "Not found"),
    "error.404.stall": ("Không có sạp {code} trong sổ.", "There is no stall {code} in the registry."),
    "error.404.hint": ("Kiểm tra lại mã sạp, ví dụ A-12.", "Check the stall code, for example A-12."),
    "error.422.title": ("Thông tin chưa đúng", "Invalid input"),
}

_ACCOUNT_CHANGES: _S = {
    "changes.title": ("Đổi tài khoản chờ duyệt", "Account changes awaiting approval"),
    "changes.lead": (
        "Sạp vẫn nhận tiền vào tài khoản cũ cho đến khi một người thứ hai duyệt. "
        "Người đề nghị không tự duyệt được. Sau khi duyệt, cần in lại thẻ QR của sạp.",
        "The stall keeps its old accounts until a second person approves. "
        "The requester cannot approve their own change. After approval the stall's QR card needs a reprint.",
    ),
    "changes.empty": ("Không có đề nghị nào chờ duyệt.", "No account change is waiting."),
    "changes.count": ("{count} đề nghị chờ duyệt", "{count} waiting"),
    "changes.item": ("Đề nghị #{id} · sạp {stall}", "Change #{id} · stall {stall}"),
    "changes.requested": ("{who} đề nghị lúc {when}", "Requested by {who} at {when}"),
    "changes.old": ("Tài khoản hiện tại", "Current accounts"),
    "changes.new": ("Tài khoản đề nghị", "Proposed accounts"),
    "changes.none": ("Chưa có tài khoản", "No account"),
    "changes.approve": ("Duyệt, áp dụng ngay", "Approve and apply"),
    "changes.reject": ("Từ chối", "Reject"),
    "changes.reason": ("Lý do từ chối (bắt buộc)", "Reason for rejecting (required)"),
    "changes.done.approved": (
        "Đã duyệt đề nghị #{id}. Nhớ in lại thẻ QR của sạp.",
        "Change #{id} approved. Remember to reprint the stall's QR card.",
    ),
    "changes.done.rejected": ("Đã từ chối đề nghị #{id}.", "Change #{id} rejected."),
    "changes.failed": ("Không thực hiện được", "Could not be done"),
}

# Vocabulary labels in English; the Vietnamese ones come from the registry's vocabularies.
_VOCAB_EN: Mapping[str, str] = {
    "category.fresh_food": "Fresh food",
    "category.dry_goods": "Dry goods",
    "category.clothing": "Clothing",
    "category.food_stall": "Food and drink",
    "category.services": "Services",
    "category.other": "Other",
    "status.active": "Trading",
    "status.paused": "Paused",
    "status.left": "Stopped trading",
    "onboarding.qr_displayed": "QR displayed",
    "onboarding.qr_issued": "QR issued, not displayed",
    "onboarding.account_only": "Account, no QR yet",
    "onboarding.no_account": "No account",
    "trading_frequency.daily": "Daily",
    "trading_frequency.session": "On market days",
    "trading_frequency.seasonal": "Seasonal",
    "kind.bank_account": "Bank account",
    "kind.e_wallet": "E-wallet",
    "kind.virtual_account": "Virtual account",
    "no_cashless_reason.small_irregular": "Small or irregular trade",
    "no_cashless_reason.prefers_cash": "Prefers cash",
    "no_cashless_reason.no_smartphone": "No smartphone",
    "no_cashless_reason.fees": "Worried about fees",
    "no_cashless_reason.other": "Other",
}
_VOCABS: Mapping[str, Vocabulary] = {
    vocabulary.name: vocabulary
    for vocabulary in (
        CATEGORIES,
        STATUSES,
        ONBOARDING_STATES,
        FREQUENCIES,
        ACCOUNT_KINDS,
        NO_CASHLESS_REASONS,
    )
}

_ACCESS: _S = {
    "signin.title": ("Đăng nhập", "Sign in"),
    "signin.link": ("Đăng nhập", "Sign in"),
    "signin.username": ("Tên đăng nhập", "Username"),
    "signin.password": ("Mật khẩu", "Password"),
    "signin.submit": ("Đăng nhập", "Sign in"),
    "signin.wrong": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "signin.refused": (
        "Sai quá nhiều lần. Vui lòng đợi một lúc rồi thử lại.",
        "Too many failed attempts. Please wait a while and try again.",
    ),
    "signin.holder_hint": (
        "Tiểu thương: mở đường dẫn (mã QR) mà ban quản lý chợ đã đưa cho sạp của mình.",
        "Stall holders: open the link (QR code) the market office gave your stall.",
    ),
    "signout": ("Đăng xuất", "Sign out"),
    "error.403.title": ("Không có quyền truy cập", "Access denied"),
    "error.403.text": ("Tài khoản của bạn không được xem trang này.", "Your account may not see this page."),
    "error.403.who": ("Đang đăng nhập: {name} ({role}).", "Signed in as {name} ({role})."),
    "link.title": ("Đường dẫn đăng nhập của sạp {code}", "Sign-in link of stall {code}"),
    "link.make": ("Tạo đường dẫn cho tiểu thương", "Make the holder's sign-in link"),
    "link.revoke": ("Thu hồi đường dẫn (đăng xuất điện thoại)", "Revoke the links (signs the phones out)"),
    "link.once": (
        "Chỉ hiện một lần: tiểu thương quét mã này bằng điện thoại của mình.",
        "Shown once: the holder scans this code with their own phone.",
    ),
    "link.qr.alt": ("Mã QR đăng nhập của sạp {code}", "Sign-in QR code of stall {code}"),
    "link.revoked": (
        "Đã thu hồi {count} đường dẫn; các điện thoại đã bị đăng xuất.",
        "{count} link(s) revoked; the phones are signed out.",
    ),
    "link.invalid.title": ("Đường dẫn không còn hiệu lực", "This link no longer works"),
    "link.invalid.text": (
        "Đường dẫn đăng nhập này không đúng hoặc đã bị thu hồi. Hãy xin ban quản lý chợ đường dẫn mới.",
        "This sign-in link is wrong or has been revoked. Ask the market office for a new one.",
    ),
}

STRINGS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        **_COMMON,
        **_ACCESS,
        **_HOME,
        **_STALL,
        **_LIVE,
        **_MANAGE,
        **_REVIEW,
        **_REPORT,
        **_ERRORS,
        **{f"reason.{code}": words for code, words in _REASONS.items()},
        **_ACCOUNT_CHANGES,
    }
)


def choose_lang(query: str | None, cookie: str | None) -> tuple[Lang, bool]:
    """The page language: ``?lang=`` wins, then the cookie, then Vietnamese.

    Returns:
        The language, and whether the cookie must be (re)set because the query chose it.
    """
    for value, from_query in ((query, True), (cookie, False)):
        if value == "vi":
            return "vi", from_query and cookie != "vi"
        if value == "en":
            return "en", from_query and cookie != "en"
    return "vi", False


@dataclass(frozen=True, slots=True)
class Translator:
    """The strings of one language, for templates (``t("key", name=value)``)."""

    lang: Lang

    @property
    def other(self) -> Lang:
        """The language the switch link leads to."""
        return "en" if self.lang == "vi" else "vi"

    def __call__(self, key: str, **values: object) -> str:
        """The text of ``key`` in this language, with ``{name}`` fields filled in."""
        vi, en = STRINGS[key]
        text = vi if self.lang == "vi" else en
        return text.format(**values) if values else text

    def reason(self, code: str) -> str:
        """The words of a review reason or suggestion ground (:mod:`market.reconcile.reasons`); unknown codes as is."""
        words = STRINGS.get(f"reason.{code}")
        if words is None:
            return code
        return words[0] if self.lang == "vi" else words[1]

    def label(self, vocabulary: str, code: str) -> str:
        """The label of a registry code: ``label("category", "dry_goods")`` is "Hàng khô", in English "Dry goods"."""
        if self.lang == "en" and (english := _VOCAB_EN.get(f"{vocabulary}.{code}")):
            return english
        return _VOCABS[vocabulary].label(code)

    def choices(self, vocabulary: str) -> list[tuple[str, str]]:
        """``(code, label)`` of every code of a vocabulary, in display order."""
        return [(code, self.label(vocabulary, code)) for code in _VOCABS[vocabulary].codes]


def bilingual(key: str) -> str:
    """``Vietnamese / English`` text of ``key``, for the label fields an API response carries in both languages."""
    vi, en = STRINGS[key]
    return f"{vi} / {en}"


def datetime_local(moment: dt.datetime, timezone: str) -> str:
    """``14:05 08/10/2024`` in the market's time zone (24-hour clock, time first as vi-VN does)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} {date_vi(local.date())}"


def time_local(moment: dt.datetime, timezone: str) -> str:
    """``14:05`` in the market's time zone."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%H:%M}"
