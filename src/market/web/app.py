"""The Litestar application factory: ``market.web.app:create_app(settings)``."""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import swagger_ui_bundle
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Tag
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import market
from market.access.sessions import SessionPolicy
from market.config import Settings, load_settings
from market.db import create_async_engine_for
from market.web import routes as routes_package
from market.web.allowed_hosts import allowed_hosts_middleware
from market.web.auth.answers import refusal_handlers
from market.web.auth.guard import access_guard
from market.web.auth.middleware import principal_middleware
from market.web.auth.rules import PUBLIC
from market.web.deps import provide_db_session, provide_engine, provide_settings
from market.web.hardening import security_headers_middleware
from market.web.problems import exception_handlers

__all__ = ["create_app"]

log = logging.getLogger("market.web")

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]
SWAGGER_STATIC = "/static/swagger"
APP_STATIC = "/static/app"
WEB_DIR = Path(__file__).parent
# Inline icon: the default one is fetched from a CDN, which an offline market cannot reach.
_FAVICON = (
    "<link rel='icon' type='image/svg+xml' href=\"data:image/svg+xml,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Crect width='8' height='8' fill='%23fff'/%3E"
    "%3Cpath d='M0 0h3v3H0zM5 0h3v3H5zM0 5h3v3H0zM4 4h2v2H4zM6 6h2v2H6z' fill='%23b91c1c'/%3E%3C/svg%3E\">"
)


def _route_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(routes_package.__path__))
    return [importlib.import_module(f"{routes_package.__name__}.{name}") for name in names]


@asynccontextmanager
async def _database(app: Litestar) -> AsyncGenerator[None, None]:
    """Open the engine at start and dispose of it at shutdown."""
    settings: Settings = app.state.settings
    engine = create_async_engine_for(settings)
    app.state.engine = engine
    app.state.session_factory = async_sessionmaker[AsyncSession](engine, expire_on_commit=False)
    try:
        yield
    finally:
        await engine.dispose()


# Young-generation threshold while the app runs (CPython's default is 700); see _quiet_gc.
GC_YOUNG_THRESHOLD = 50_000
_gc_apps: list[tuple[int, int, int]] = []  # the thresholds to restore, one per running app


@asynccontextmanager
async def _quiet_gc(_app: Litestar) -> AsyncGenerator[None, None]:
    """Keep the cyclic GC off the heap built at start, and off requests that are merely waiting.

    A webhook waits for the journal's group commit, so its request objects outlive a loop
    iteration. With CPython's defaults that set off a young collection every few dozen requests,
    promoted them, and every so often a full collection walked the whole app: long pauses and
    a real share of each webhook's CPU (benchmarks/README.md has the figures). Frozen, the startup heap is
    never walked again; with a larger first threshold a young collection comes only when many
    objects truly pile up (requests free theirs by reference counting). Runs last, after every
    other startup; undone at shutdown, so a test process running many apps collects normally.
    """
    _gc_apps.append(gc.get_threshold())
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *_gc_apps[0][1:])
    try:
        yield
    finally:
        thresholds = _gc_apps.pop()
        if not _gc_apps:
            gc.set_threshold(*thresholds)
            gc.unfreeze()


def _openapi() -> OpenAPIConfig:
    # Swagger UI's files come from a Python package and are served by us: the market office
    # may be offline, and the default CDN assets would leave a blank page.
    swagger = SwaggerRenderPlugin(
        js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_STATIC}/swagger-ui-standalone-preset.js",
        path="/",
        favicon=_FAVICON,
    )
    return OpenAPIConfig(
        title="market — Thoại Giang cashless market",
        version=market.__version__,
        description="Registry, VietQR, reconciliation and adoption reporting. Errors are application/problem+json.",
        path="/schema",
        render_plugins=[swagger],
        # The documentation is public: its router declares so for the access guard.
        openapi_router=Router("/schema", route_handlers=[], include_in_schema=False, opt=PUBLIC),
        tags=[Tag(name="system", description="Health and documentation")],
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for ``settings`` (from ``MARKET_*`` variables when not given)."""
    settings = settings or load_settings()
    modules = _route_modules()
    handlers: list[Any] = [
        create_static_files_router(
            path=SWAGGER_STATIC, directories=[swagger_ui_bundle.swagger_ui_path], name="swagger", opt=PUBLIC
        ),
        # The pages' own CSS and scripts: served by us, never a CDN (phones on 3G, an office offline).
        # Pages link them with a content hash (``?v=``), so a phone may keep them a year unasked.
        create_static_files_router(
            path=APP_STATIC,
            directories=[WEB_DIR / "static"],
            name="app-static",
            cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
            opt=PUBLIC,
        ),
    ]
    lifespans: list[Lifespan] = [_database]
    for module in modules:
        handlers.extend(getattr(module, "ROUTES", []))
        lifespans.extend(getattr(module, "LIFESPAN", []))
    lifespans.append(_quiet_gc)

    def _on_app_init(config: AppConfig) -> AppConfig:
        config.state = State({"settings": settings, "session_policy": SessionPolicy.from_settings(settings)})
        return config

    hosts = settings.host_names
    hosts_check = [] if "*" in hosts else [allowed_hosts_middleware(hosts)]

    return Litestar(
        route_handlers=handlers,
        on_app_init=[_on_app_init],
        lifespan=lifespans,
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "engine": Provide(provide_engine, sync_to_thread=False),
            "db_session": Provide(provide_db_session),
        },
        exception_handlers={**exception_handlers, **refusal_handlers},
        # Every route declares who may call it (market.web.auth.rules); this guard enforces it.
        guards=[access_guard],
        middleware=[*hosts_check, security_headers_middleware(), principal_middleware()],
        openapi_config=_openapi(),
        template_config=TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
