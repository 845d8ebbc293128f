"""Dependencies handed to route handlers: settings, the engine, a database session per request."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from market.config import Settings

__all__ = ["provide_db_session", "provide_engine", "provide_settings"]


def provide_settings(state: State) -> Settings:
    """The settings the app was created with."""
    settings: Settings = state.settings
    return settings


def provide_engine(state: State) -> AsyncEngine:
    """The app's asyncio engine."""
    engine: AsyncEngine = state.engine
    return engine


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session for one request. Handlers commit explicitly before they answer.

    Committing inside the handler (not after the response starts) means a 2xx is only sent
    for work that is already durable; anything not committed is rolled back on close.
    """
    factory: async_sessionmaker[AsyncSession] = state.session_factory
    async with factory() as session:
        yield session
