"""The commune's "Xã hội số" report: one table of indicators for a month, with its letterhead.

Layout and columns: STT, indicator, numerator / denominator
explanation, unit, target, result as numerator / denominator, rate, self-assessment
(Đạt / Chưa đạt), source. Measured indicators come from :func:`market.adoption.metrics.adoption`
as of the period's data cut-off (its last day, or today for the running month); survey
indicators are the latest survey entered on or before that day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.adoption.definitions import RULES, TARGETS, Target, definition, transacting_key
from market.adoption.document_dates import period_vi
from market.adoption.figures import Figure
from market.adoption.metrics import adoption
from market.adoption.models import ReportSetting, SurveyIndicator
from market.db import utcnow
from market.errors import FieldError, InvalidInputError, NotFoundError
from market.formats import date_vi, integer, percent, ratio_percent

__all__ = [
    "MEASURED",
    "PROFILE_FIELDS",
    "CommuneReport",
    "IndicatorRow",
    "Period",
    "Profile",
    "SurveyIn",
    "SurveyOut",
    "SurveyResult",
    "commune_report",
    "delete_survey",
    "list_surveys",
    "load_profile",
    "load_targets",
    "parse_period",
    "save_setting",
    "save_survey",
]

# The measured indicators the report carries, in its order.
MEASURED = ("bank_account", "payment_app", "qr_displayed", transacting_key(30), transacting_key(90), "regular")

_KEY = re.compile(r"[a-z][a-z0-9_]{1,39}")


class Period(msgspec.Struct, frozen=True):
    """A reporting month and its data cut-off day."""

    year: int
    month: int
    cutoff: dt.date

    @property
    def code(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The letterhead and closing block (NĐ 30/2020 layout); every field is a setting."""

    parent_body: str = "UBND TỈNH AN GIANG"
    issuer: str = "ỦY BAN NHÂN DÂN XÃ THOẠI GIANG"
    document_number: str = "Số:      /BC-UBND"
    place: str = "Thoại Giang"
    title: str = "Kết quả thực hiện thanh toán không dùng tiền mặt tại chợ - tiêu chí Xã hội số"
    recipients: str = "Như trên; Lưu: VT"
    signer_authority: str = "TM. ỦY BAN NHÂN DÂN"
    signer_title: str = "CHỦ TỊCH"
    signer_name: str = ""


PROFILE_FIELDS: tuple[str, ...] = Profile.__struct_fields__


class IndicatorRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the indicator table."""

    number: int
    key: str
    name: str
    explanation: str
    unit: str
    target_percent: float | None
    target_basis: str | None
    numerator: int
    denominator: int
    percent: float | None
    achieved: bool | None
    assessment: str
    source: str
    source_detail: str
    surveyed_on: dt.date | None
    display: str


class CommuneReport(msgspec.Struct, frozen=True, kw_only=True):
    """The whole report, ready for any format."""

    period: str
    period_label: str
    cutoff: dt.date
    issued_on: dt.date
    market_name: str
    profile: Profile
    active_stalls: int
    paused_stalls: int
    rows: list[IndicatorRow]
    rules: list[str]


class SurveyResult(msgspec.Struct, frozen=True, kw_only=True):
    """A survey result: ``numerator`` of ``denominator`` on ``surveyed_on`` (the indicator's key aside)."""

    name: str
    numerator: int
    denominator: int
    surveyed_on: dt.date
    source: str
    denominator_note: str | None = None
    target_percent: float | None = None


class SurveyIn(SurveyResult, frozen=True, kw_only=True):
    """A survey result to store, for the indicator ``key``."""

    key: str


class SurveyOut(SurveyIn, frozen=True, kw_only=True):
    """A stored survey result, with who entered it."""

    recorded_by: str
    recorded_at: dt.datetime


_surveys = SurveyIndicator.__table__
_settings = ReportSetting.__table__


def parse_period(value: str, today: dt.date) -> Period:
    """``YYYY-MM`` → the month and its cut-off (its last day, or ``today`` while it runs).

    Raises:
        InvalidInputError: not ``YYYY-MM``, or a month that has not started.
    """
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    month = int(match.group(2)) if match else 0
    if match is None or not 1 <= month <= 12:
        message = f"cần dạng YYYY-MM, ví dụ 2024-10 / expected YYYY-MM: {value!r}"
        raise InvalidInputError([FieldError("period", message)])
    year = int(match.group(1))
    first = dt.date(year, month, 1)
    if first > today:
        raise InvalidInputError([FieldError("period", "kỳ báo cáo chưa bắt đầu / the period has not started")])
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return Period(year, month, min(last, today))


def load_profile(conn: Connection) -> Profile:
    """The letterhead with the stored settings laid over the defaults."""
    stored = dict(conn.execute(sa.select(_settings.c.key, _settings.c.value)).all())
    return msgspec.structs.replace(Profile(), **{k: v for k, v in stored.items() if k in PROFILE_FIELDS})


def load_targets(conn: Connection) -> dict[str, Target]:
    """The targets of measured indicators: defaults (definitions.TARGETS), then stored ``target.<key>``.

    A stored empty value removes the default: the indicator is then reported without assessment.
    """
    targets = dict(TARGETS)
    rows = conn.execute(sa.select(_settings.c.key, _settings.c.value).where(_settings.c.key.like("target.%")))
    for key, value in rows:
        name = key.removeprefix("target.")
        if not value:
            targets.pop(name, None)
            continue
        number, _, basis = value.partition("|")
        targets[name] = Target(percent=float(number), basis=basis or "Do xã quy định / set by the commune")
    return targets


def _setting_errors(key: str, value: str) -> list[FieldError]:
    if key in PROFILE_FIELDS:
        return []
    name = key.removeprefix("target.")
    if not key.startswith("target.") or name not in MEASURED:
        known = ", ".join([*PROFILE_FIELDS, *(f"target.{k}" for k in MEASURED)])
        return [FieldError("key", f"không có thiết lập {key!r} / unknown setting (known: {known})")]
    number = value.partition("|")[0].strip()
    if value and not (number.replace(".", "", 1).isdigit() and 0 <= float(number) <= 100):
        return [FieldError("value", "mục tiêu là số phần trăm 0–100, có thể kèm '|căn cứ' / a percent 0..100")]
    return []


def save_setting(conn: Connection, key: str, value: str) -> None:
    """Store one setting: a letterhead field, or ``target.<indicator>`` = ``"80|căn cứ"`` (empty: no target).

    Raises:
        InvalidInputError: an unknown key, or a target that is not a percentage.
    """
    value = value.strip()
    errors = _setting_errors(key, value)
    if errors:
        raise InvalidInputError(errors)
    conn.execute(sa.delete(ReportSetting).where(_settings.c.key == key))
    conn.execute(sa.insert(ReportSetting).values(key=key, value=value, updated_at=utcnow()))


def _survey_errors(survey: SurveyIn, today: dt.date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not _KEY.fullmatch(survey.key) or survey.key in MEASURED:
        errors.append(FieldError("key", "mã chỉ tiêu: chữ thường, số, '_' (không trùng chỉ tiêu đo) / a new slug"))
    if not survey.name.strip():
        errors.append(FieldError("name", "cần tên chỉ tiêu / name required"))
    if survey.denominator <= 0:
        errors.append(FieldError("denominator", "mẫu số phải lớn hơn 0 / must be > 0"))
    if not 0 <= survey.numerator <= max(survey.denominator, 0):
        errors.append(FieldError("numerator", "tử số từ 0 đến mẫu số / must be 0..denominator"))
    if survey.surveyed_on > today:
        errors.append(FieldError("surveyed_on", "ngày khảo sát ở tương lai / in the future"))
    if not survey.source.strip():
        errors.append(FieldError("source", "cần nguồn số liệu (đơn vị, cuộc khảo sát) / source required"))
    if survey.target_percent is not None and not 0 <= survey.target_percent <= 100:
        errors.append(FieldError("target_percent", "từ 0 đến 100 / 0..100"))
    return errors


def save_survey(conn: Connection, survey: SurveyIn, actor: str, today: dt.date) -> SurveyOut:
    """Store (or correct) a survey result; the same key and date replace the earlier entry.

    Raises:
        InvalidInputError: a field breaks the rules above (numerator over denominator, future date...).
    """
    errors = _survey_errors(survey, today)
    if errors:
        raise InvalidInputError(errors)
    same = sa.and_(_surveys.c.key == survey.key, _surveys.c.surveyed_on == survey.surveyed_on)
    conn.execute(sa.delete(SurveyIndicator).where(same))
    stored = SurveyOut(**msgspec.structs.asdict(survey), recorded_by=actor[:64], recorded_at=utcnow())
    conn.execute(sa.insert(SurveyIndicator).values(**msgspec.structs.asdict(stored)))
    return stored


def list_surveys(conn: Connection, *, on_or_before: dt.date | None = None, latest: bool = False) -> list[SurveyOut]:
    """Stored survey results by key then date; ``latest`` keeps each key's most recent one."""
    query = sa.select(*(_surveys.c[name] for name in SurveyOut.__struct_fields__)).order_by(
        _surveys.c.key, _surveys.c.surveyed_on
    )
    if on_or_before is not None:
        query = query.where(_surveys.c.surveyed_on <= on_or_before)
    found = [msgspec.convert(dict(row), SurveyOut) for row in conn.execute(query).mappings()]
    if not latest:
        return found
    return list({survey.key: survey for survey in found}.values())


def _assess(numerator: int, denominator: int, target: float | None) -> tuple[bool | None, str]:
    if target is None or denominator <= 0:
        return None, "Chưa đánh giá"
    # Compare exact fractions, not rounded percentages: 79.996 % is not 80 %.
    achieved = numerator * 100 >= target * denominator
    return achieved, "Đạt" if achieved else "Chưa đạt"


def _measured_row(number: int, figure: Figure, target: Target | None, cutoff: dt.date) -> IndicatorRow:
    meaning = definition(figure.key)
    achieved, assessment = _assess(figure.numerator, figure.denominator, target.percent if target else None)
    return IndicatorRow(
        number=number,
        key=figure.key,
        name=meaning.name,
        explanation=f"{meaning.numerator} / {meaning.denominator}",
        unit="%",
        target_percent=target.percent if target else None,
        target_basis=target.basis if target else None,
        numerator=figure.numerator,
        denominator=figure.denominator,
        percent=figure.percent,
        achieved=achieved,
        assessment=assessment,
        source="measured",
        source_detail=f"Hệ thống đo (sổ đăng ký, dữ liệu đối soát) đến {date_vi(cutoff)}",
        surveyed_on=None,
        display=figure.display,
    )


def _survey_row(number: int, survey: SurveyOut) -> IndicatorRow:
    achieved, assessment = _assess(survey.numerator, survey.denominator, survey.target_percent)
    share = ratio_percent(survey.numerator, survey.denominator)
    denominator = survey.denominator_note or "số người được khảo sát"
    return IndicatorRow(
        number=number,
        key=survey.key,
        name=survey.name,
        explanation=f"theo khảo sát / {denominator}",
        unit="%",
        target_percent=survey.target_percent,
        target_basis=None,
        numerator=survey.numerator,
        denominator=survey.denominator,
        percent=None if share is None else float(share),
        achieved=achieved,
        assessment=assessment,
        source="survey",
        source_detail=f"Khảo sát ngày {date_vi(survey.surveyed_on)}: {survey.source}",
        surveyed_on=survey.surveyed_on,
        display=f"{integer(survey.numerator)}/{integer(survey.denominator)} ({percent(share)})",
    )


def commune_report(
    conn: Connection,
    period: Period,
    *,
    market_name: str,
    issued_on: dt.date,
    timezone: str = "Asia/Ho_Chi_Minh",
    profile_overrides: Mapping[str, str] | None = None,
) -> CommuneReport:
    """The "Xã hội số" report of ``period``.

    Args:
        conn: a connection to the market database.
        period: the month (see :func:`parse_period`); figures are as of its cut-off day.
        market_name: printed in the title.
        issued_on: the date in the header ("Thoại Giang, ngày … tháng … năm …").
        timezone: the market's time zone.
        profile_overrides: letterhead fields for this one report, over the stored settings.

    Raises:
        InvalidInputError: an override names no letterhead field.
    """
    unknown = sorted(set(profile_overrides or {}) - set(PROFILE_FIELDS))
    if unknown:
        message = "không phải trường của báo cáo / not a report field"
        raise InvalidInputError([FieldError(name, message) for name in unknown])
    profile = msgspec.structs.replace(load_profile(conn), **dict(profile_overrides or {}))
    figures = adoption(conn, as_of=period.cutoff, window=30, timezone=timezone, trend=False)
    targets = load_targets(conn)
    rows = [
        _measured_row(number, figures.indicator(key), targets.get(key), period.cutoff)
        for number, key in enumerate(MEASURED, start=1)
    ]
    for survey in list_surveys(conn, on_or_before=period.cutoff, latest=True):
        rows.append(_survey_row(len(rows) + 1, survey))
    return CommuneReport(
        period=period.code,
        period_label=period_vi(period.year, period.month),
        cutoff=period.cutoff,
        issued_on=issued_on,
        market_name=market_name,
        profile=profile,
        active_stalls=figures.active,
        paused_stalls=figures.paused,
        rows=rows,
        rules=list(RULES),
    )


def delete_survey(conn: Connection, key: str, surveyed_on: dt.date) -> None:
    """Remove one survey result entered by mistake.

    Raises:
        NotFoundError: nothing stored for that key and date.
    """
    same = sa.and_(_surveys.c.key == key, _surveys.c.surveyed_on == surveyed_on)
    result = conn.execute(sa.delete(SurveyIndicator).where(same))
    if not result.rowcount:
        raise NotFoundError(f"không có kết quả khảo sát {key} ngày {date_vi(surveyed_on)} / no such survey result")
