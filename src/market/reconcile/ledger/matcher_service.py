"""The server's matching loop: one :class:`Driver` in a dedicated thread, polled from asyncio.

The driver runs on a blocking engine in its own thread, like the journal writer. It polls the
journal every :data:`POLL_SECONDS` (an index lookup; no write lock when idle), so a webhook's
payment reaches the ledger without waiting for anything else, and :meth:`MatcherService.wake`
makes it look at once. With several workers on PostgreSQL, each tries the matcher's advisory
lock; the one that holds it matches, the others stand by, retry now and then, and take over
when it dies.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from market.config import Settings
from market.db import create_sync_engine_for
from market.reconcile.ledger.driver import Driver, RunReport

__all__ = ["POLL_SECONDS", "RETRY_SECONDS", "STANDBY_SECONDS", "MatcherService"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
STANDBY_SECONDS = 2.0  # another worker holds the lock: check now and then whether it still does
RETRY_SECONDS = 1.0  # after an error (database down): reconnect soon, without spinning


class MatcherService:
    """The matching loop around one :class:`Driver`, for as long as it is started.

    Args:
        settings: the database to match in, and the market's time zone.
    """

    def __init__(self, settings: Settings) -> None:
        self._engine = create_sync_engine_for(settings)
        self._driver = Driver(self._engine, timezone=settings.timezone)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher")
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling (in the running event loop)."""
        self._task = asyncio.create_task(self._loop(), name="matcher")

    def wake(self) -> None:
        """Look at the journal now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the batch in hand, release the lock and the connection."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._driver.close)
        self._thread.shutdown(wait=True)
        self._engine.dispose()

    def _run(self) -> RunReport:
        return self._driver.run(should_stop=lambda: self._stopping)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            delay = POLL_SECONDS
            try:
                report = await loop.run_in_executor(self._thread, self._run)
                if report.locked_out:
                    delay = STANDBY_SECONDS
                elif report.changed:
                    log.debug("matched %d notifications, %d decisions", report.notifications, report.resolutions)
            except Exception:
                log.exception("matching failed; retrying in %s s", RETRY_SECONDS)
                await loop.run_in_executor(self._thread, self._driver.close)
                delay = RETRY_SECONDS
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
