"""Simulated provider traffic: correctly signed, realistic notifications sent to a running server.

Used by ``market simulate`` (demo and load), by the ingest tests and by the load benchmark. A
:func:`plan` is a deterministic list of transfers for a seed (duplicates are repeats of earlier
transfers, as a provider's retries are); :func:`render` turns one into the exact request that
provider would send, signed with the ``MARKET_*`` secrets at the moment of sending; :func:`send`
delivers a plan with bounded concurrency, count and time. Memos are wrapped the way banks wrap
them, around a payment code in the market's format.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

import httpx
import msgspec

from market.config import Settings
from market.reconcile.ingest.adapters.base import VIETNAM
from market.reconcile.ingest.signatures import (
    casso_form,
    casso_signature,
    generic_signature,
    payos_signature,
    sepay_signature,
)
from market.reconcile.matching.references import new_code

__all__ = [
    "PATHS",
    "PROVIDERS",
    "Outcome",
    "Report",
    "Transfer",
    "configured_providers",
    "plan",
    "provider_key",
    "render",
    "send",
]

SimProvider = Literal["payos", "sepay", "casso", "generic"]
PROVIDERS: tuple[SimProvider, ...] = ("payos", "sepay", "casso", "generic")
PATHS: dict[SimProvider, str] = {p: f"/webhooks/{p}" for p in PROVIDERS}

# Receiving banks common in An Giang (BIN, name as SePay's ``gateway`` spells it).
_BANKS = (("970436", "Vietcombank"), ("970418", "BIDV"), ("970405", "Agribank"), ("970415", "VietinBank"),
          ("970422", "MBBank"), ("970416", "ACB"), ("970403", "Sacombank"))  # fmt: skip
_FAMILY = ("NGUYEN", "TRAN", "LE", "PHAM", "HUYNH", "VO", "PHAN", "TRUONG", "BUI", "DANG", "DO", "NGO", "DUONG")
_MIDDLE = ("VAN", "THI", "HOANG", "MINH", "NGOC", "THANH", "KIM", "HUU", "DUC", "THU")
_GIVEN = ("AN", "BICH", "CUONG", "DUNG", "HA", "HUNG", "LAN", "LINH", "MAI", "NAM", "PHUONG", "TAM", "TUAN", "YEN")
_WORDS = ("chuyen tien", "thanh toan", "tra tien ca", "tien rau", "mua hang", "CK", "")


class Transfer(msgspec.Struct, frozen=True, kw_only=True):
    """One simulated credit to a stall's account, as the bank and the provider know it."""

    provider: SimProvider
    txn_id: str
    amount: int
    account_number: str
    bank_bin: str
    bank_name: str
    bank_reference: str
    memo: str
    transferred_at: dt.datetime
    counterparty_name: str
    counterparty_account: str
    counterparty_bin: str


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _bare_memo(rng: random.Random, code: str) -> str:
    # What the payer typed: usually the code first, sometimes mangled by hand.
    shape = rng.random()
    if shape < 0.15:
        code = code.lower()
    elif shape < 0.25:
        code = f"{code[:4]} {code[4:]}"
    elif shape < 0.30:
        code = f"{code[:1]}-{code[1:]}"
    return f"{code} {rng.choice(_WORDS)}".strip()


def _wrapped_memo(rng: random.Random, code: str, payer: str, payer_account: str, account: str) -> str:
    """The memo as the receiving bank delivers it: one of the wrappers banks put around it."""
    memo = _bare_memo(rng, code)
    when = dt.datetime.now(VIETNAM)
    wrappers: list[Callable[[], str]] = [
        lambda: memo,
        lambda: (
            f"MBVCB.{_digits(rng, 10)}.{_digits(rng, 6)}.{memo}.CT tu {payer_account} {payer} toi {account} "
            f"HO KINH DOANH tai VIETINBANK"
        ),
        lambda: f"{memo} GD {_digits(rng, 6)}-{when:%d%m%y} {when:%H:%M:%S}",
        lambda: f"{memo} FT{_digits(rng, 14)} Ma giao dich Trace{_digits(rng, 6)} Trace {_digits(rng, 6)}",
        lambda: f"IBFT {memo} Ma giao dich Trace{_digits(rng, 6)}",
        lambda: f"CT DEN:{_digits(rng, 12)} {memo}",
        lambda: f"TKThe :{payer_account}, tai MB. {memo} -CTLNHIDI{_digits(rng, 15)}-1/1-CRE-002",
        lambda: f"SMB-TkThe :{payer_account}, tai MSCBVNVX. {memo}",
        # The payer typed nothing: the bank's default memo carries no code at all.
        lambda: f"{payer} chuyen tien FT{_digits(rng, 14)}",
    ]
    return rng.choice(wrappers)()


def plan(
    providers: Sequence[SimProvider], count: int, duplicates: float, seed: int, *, stalls: int = 120
) -> list[Transfer]:
    """``count`` deliveries for ``seed``: ``round(count * (1 - duplicates))`` distinct transfers, the rest repeats.

    The same arguments always give the same list, so a test can rebuild what a server received.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    accounts = [(_digits(rng, rng.choice((10, 12, 13))), *rng.choice(_BANKS)) for _ in range(stalls)]
    unique = max(1, round(count * (1 - duplicates)))
    codes: set[str] = set()
    now = dt.datetime.now(dt.UTC)
    transfers: list[Transfer] = []
    for index in range(unique):
        account, bank_bin, bank_name = rng.choice(accounts)
        payer, payer_account = _name(rng), _digits(rng, 10)
        code = new_code(codes, randbelow=rng.randrange)
        codes.add(code)
        transfers.append(
            Transfer(
                provider=providers[index % len(providers)],
                # Seed and index make ids unique across seeds and stable within one; no leading zero,
                # as SePay and Casso send their ids as JSON numbers.
                txn_id=str((seed % 10**8 + 1) * 10**7 + index),
                amount=rng.randrange(5, 500) * 1000,
                account_number=account,
                bank_bin=bank_bin,
                bank_name=bank_name,
                bank_reference=f"FT{now:%y}{seed % 10**4:04d}{index:08d}",  # FT + 14 digits, unique per run
                memo=_wrapped_memo(rng, code, payer, payer_account, account),
                transferred_at=now - dt.timedelta(seconds=rng.randrange(0, 3600)),
                counterparty_name=payer,
                counterparty_account=payer_account,
                counterparty_bin=rng.choice(_BANKS)[0],
            )
        )
    repeats = [rng.choice(transfers) for _ in range(count - unique)]
    deliveries = transfers + repeats
    rng.shuffle(deliveries)
    return deliveries


def configured_providers(settings: Settings) -> list[SimProvider]:
    """The providers whose secret is set, i.e. the ones a server with the same settings accepts."""
    configured = {
        "payos": settings.payos_checksum_key,
        "sepay": settings.sepay_webhook_secret or settings.sepay_api_key,
        "casso": settings.casso_secret,
        "generic": settings.generic_webhook_secret,
    }
    return [p for p in PROVIDERS if configured[p]]


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M:%S")


def _payos(t: Transfer, settings: Settings) -> tuple[bytes, dict[str, str]]:
    data: dict[str, object] = {
        "orderCode": int(t.txn_id[-9:]),
        "amount": t.amount,
        "description": t.memo,
        "accountNumber": t.account_number,
        "reference": t.bank_reference,
        "transactionDateTime": _local(t.transferred_at),
        "currency": "VND",
        "paymentLinkId": f"{int(t.txn_id):032x}",
        "code": "00",
        "desc": "success",
        "counterAccountBankId": t.counterparty_bin,
        "counterAccountBankName": "",
        "counterAccountName": t.counterparty_name,
        "counterAccountNumber": t.counterparty_account,
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    signature = payos_signature(settings.payos_checksum_key, data)
    envelope = {"code": "00", "desc": "success", "success": True, "data": data, "signature": signature}
    return json.dumps(envelope, ensure_ascii=False).encode(), {}


def _sepay(t: Transfer, settings: Settings, now: float) -> tuple[bytes, dict[str, str]]:
    event = {
        "id": int(t.txn_id),
        "gateway": t.bank_name,
        "transactionDate": _local(t.transferred_at),
        "accountNumber": t.account_number,
        "code": None,
        "content": t.memo,
        "transferType": "in",
        "transferAmount": t.amount,
        "accumulated": 0,
        "subAccount": None,
        "referenceCode": t.bank_reference,
        "description": f"BankAPINotify {t.memo}",
    }
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    if settings.sepay_webhook_secret:
        timestamp = str(int(now))
        signature = sepay_signature(settings.sepay_webhook_secret, timestamp, body)
        return body, {"X-SePay-Timestamp": timestamp, "X-SePay-Signature": signature}
    return body, {"Authorization": f"Apikey {settings.sepay_api_key}"}


def _casso(t: Transfer, settings: Settings, now: float) -> tuple[bytes, dict[str, str]]:
    envelope = {
        "error": 0,
        "data": {
            "id": int(t.txn_id),
            "reference": t.bank_reference,
            "description": t.memo,
            "amount": t.amount,
            "runningBalance": 0,
            "transactionDateTime": _local(t.transferred_at),
            "accountNumber": t.account_number,
            "bankName": t.bank_name,
            "bankAbbreviation": t.bank_name,
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": t.counterparty_name,
            "counterAccountNumber": t.counterparty_account,
            "counterAccountBankId": t.counterparty_bin,
            "counterAccountBankName": "",
        },
    }
    timestamp = str(int(now * 1000))
    signature = casso_signature(settings.casso_secret, timestamp, casso_form(envelope, "ascii"))
    body = json.dumps(envelope, ensure_ascii=False).encode()
    return body, {"X-Casso-Signature": f"t={timestamp},v1={signature}"}


def _generic(t: Transfer, settings: Settings, now: float) -> tuple[bytes, dict[str, str]]:
    transfer = {
        "id": t.txn_id,
        "amount": t.amount,
        "direction": "in",
        "memo": t.memo,
        "transferred_at": t.transferred_at.astimezone(VIETNAM).isoformat(),
        "account_number": t.account_number,
        "bank_bin": t.bank_bin,
        "bank_reference": t.bank_reference,
        "counterparty_name": t.counterparty_name,
        "counterparty_account": t.counterparty_account,
        "counterparty_bank": t.counterparty_bin,
    }
    body = json.dumps(transfer, ensure_ascii=False).encode()
    timestamp = str(int(now))
    return body, {
        "X-Market-Signature": f"t={timestamp},v1={generic_signature(settings.generic_webhook_secret, timestamp, body)}"
    }


def render(transfer: Transfer, settings: Settings, now: float | None = None) -> tuple[str, bytes, dict[str, str]]:
    """The request the transfer's provider would send now: ``(path, body, headers)``, signed with ``settings``."""
    moment = time.time() if now is None else now
    if transfer.provider == "payos":
        body, headers = _payos(transfer, settings)
    elif transfer.provider == "sepay":
        body, headers = _sepay(transfer, settings, moment)
    elif transfer.provider == "casso":
        body, headers = _casso(transfer, settings, moment)
    else:
        body, headers = _generic(transfer, settings, moment)
    headers["Content-Type"] = "application/json"
    return PATHS[transfer.provider], body, headers


def provider_key(transfer: Transfer) -> tuple[str, str]:
    """The journal's idempotency key for ``transfer``: ``(provider, provider_txn_id)``."""
    return transfer.provider, transfer.bank_reference if transfer.provider == "payos" else transfer.txn_id


class Outcome(msgspec.Struct, frozen=True, gc=False):
    """What happened to one delivery: HTTP status (0 for a transport error) and latency."""

    transfer: Transfer
    status: int
    seconds: float


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """Summary of a run, with every outcome for callers that need them."""

    sent: int
    acknowledged: int
    rejected: dict[str, int]
    transport_errors: int
    unsent: int
    elapsed_seconds: float
    requests_per_second: float
    latency_ms: dict[str, float]
    outcomes: list[Outcome]

    def summary(self) -> dict[str, object]:
        """The report without the per-delivery outcomes (what ``market simulate`` prints)."""
        return {f: getattr(self, f) for f in self.__struct_fields__ if f != "outcomes"}


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


async def send(
    url: str, deliveries: Sequence[Transfer], settings: Settings, *, concurrency: int = 32, max_seconds: float = 600
) -> Report:
    """POST every delivery to ``url`` (the server's base URL) with at most ``concurrency`` in flight.

    Stops starting new requests after ``max_seconds``; the ones not sent are counted as ``unsent``.
    Each request is signed when it is sent, so timestamps are fresh even in long runs.
    """
    base = url.rstrip("/")
    outcomes: list[Outcome] = []
    pending = iter(deliveries)
    started = time.monotonic()
    deadline = started + max_seconds

    async def worker() -> None:
        # One client (one keep-alive connection) per worker: httpx's shared pool slows down
        # sharply with many concurrent requests (a shared pool is several times slower).
        async with httpx.AsyncClient(timeout=15.0, follow_redirects=False) as client:
            for transfer in pending:
                if time.monotonic() > deadline:
                    return
                path, body, headers = render(transfer, settings)
                begin = time.perf_counter()
                try:
                    response = await client.post(base + path, content=body, headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                outcomes.append(Outcome(transfer, status, time.perf_counter() - begin))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    rejected = Counter(str(o.status) for o in outcomes if o.status >= 300)
    acknowledged = sum(1 for o in outcomes if 200 <= o.status < 300)
    return Report(
        sent=len(outcomes),
        acknowledged=acknowledged,
        rejected=dict(sorted(rejected.items())),
        transport_errors=sum(1 for o in outcomes if o.status == 0),
        unsent=len(deliveries) - len(outcomes),
        elapsed_seconds=round(elapsed, 3),
        requests_per_second=round(len(outcomes) / elapsed, 1) if elapsed else 0.0,
        latency_ms=_percentiles([o.seconds for o in outcomes if o.status]),
        outcomes=outcomes,
    )
