"""``market`` commands of the developer tools: ``market simulate`` sends provider traffic to a running server."""

from __future__ import annotations

import asyncio
import json
import random

import click

from market.cliutil import cli_settings
from market.devtools import simulate as sim

__all__ = ["COMMANDS"]


@click.command("simulate")
@click.option("--url", required=True, help="Base URL of the running server, e.g. http://127.0.0.1:8000.")
@click.option(
    "--provider",
    type=click.Choice([*sim.PROVIDERS, "mixed"]),
    default="mixed",
    show_default=True,
    help="Whose webhooks to imitate; mixed = every provider whose MARKET_* secret is set.",
)
@click.option("--count", type=click.IntRange(1, 1_000_000), default=100, show_default=True, help="Deliveries.")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=16, show_default=True, help="In flight.")
@click.option(
    "--duplicates",
    type=click.FloatRange(0, 0.95),
    default=0.0,
    show_default=True,
    help="Share of deliveries that repeat an earlier one, as provider retries do.",
)
@click.option("--seed", type=int, default=None, help="Same seed, same notifications (default: random).")
@click.option("--max-seconds", type=click.FloatRange(1, 3600), default=300, show_default=True, help="Stop after.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def simulate(
    url: str,
    provider: str,
    count: int,
    concurrency: int,
    duplicates: float,
    seed: int | None,
    max_seconds: float,
    as_json: bool,
) -> None:
    """Send signed, realistic notifications to a running server and report how it answered.

    Gửi thông báo giao dịch mô phỏng (đã ký) tới máy chủ đang chạy. Secrets come from the same
    MARKET_* variables the server reads; requests go only to --url.
    """
    settings = cli_settings()
    if not url.startswith(("http://", "https://")):
        raise click.UsageError("--url must start with http:// or https://")
    configured = sim.configured_providers(settings)
    providers = configured if provider == "mixed" else [p for p in configured if p == provider]
    if not providers:
        raise click.UsageError(
            f"no secret set for {provider}: set the provider's MARKET_* secret (the server refuses unsigned) / "
            "chưa cấu hình khóa bí mật cho nhà cung cấp"
        )
    seed = random.SystemRandom().randrange(10**8) if seed is None else seed
    deliveries = sim.plan(providers, count, duplicates, seed)
    report = asyncio.run(sim.send(url, deliveries, settings, concurrency=concurrency, max_seconds=max_seconds))
    summary = {"seed": seed, "providers": providers, **report.summary()}
    if as_json:
        click.echo(json.dumps(summary))
        return
    latency = report.latency_ms
    click.echo(f"seed {seed}, providers {', '.join(providers)}")
    click.echo(
        f"sent {report.sent} in {report.elapsed_seconds} s ({report.requests_per_second} req/s), unsent {report.unsent}"
    )
    click.echo(f"acknowledged (2xx) / đã nhận: {report.acknowledged}")
    click.echo(f"rejected / bị từ chối: {report.rejected or 0}, transport errors: {report.transport_errors}")
    if latency:
        click.echo("latency ms: " + ", ".join(f"{k} {v}" for k, v in latency.items()))


COMMANDS = [simulate]
