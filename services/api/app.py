"""The FastAPI app: open probes, everything under /api/v1 behind an API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api import deps, errors
from services.api.guard import RequestGuard
from services.api.routers import (
    alerts,
    articles,
    dashboard,
    deliveries,
    docs,
    entities,
    feeds,
    health,
    insights,
    keys,
    metrics,
    stories,
    subscriptions,
    watches,
    websub,
)
from shared.config import get_settings
from shared.nlp import russian


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Say loudly what runs degraded at start; stop the live streams (if any were opened) at the end."""
    russian.log_if_missing()
    yield
    streams = getattr(app.state, "streams", None)
    if streams is not None:
        await streams.stop()


def create_app() -> FastAPI:
    """Build the API app (settings and database come from the environment)."""
    app = FastAPI(
        lifespan=lifespan,
        title="Newswatch",
        version="0.1.0",
        description="News monitoring: feeds and pushed articles in; entities, matches and signed alerts out.",
        docs_url=None,  # /docs and /redoc come from routers/docs.py, with local assets
        redoc_url=None,
    )
    app.include_router(docs.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(dashboard.router)
    app.include_router(articles.router)
    app.include_router(insights.router)  # before feeds: /feeds/health is not a feed id
    app.include_router(feeds.router)
    app.include_router(watches.router)
    app.include_router(subscriptions.router)
    app.include_router(alerts.router)
    app.include_router(entities.router)
    app.include_router(stories.router)
    app.include_router(deliveries.router)
    app.include_router(keys.router)
    app.include_router(websub.router)
    errors.install(app)
    errors.install_openapi(app, key_check=deps.require_key, admin_check=deps.require_admin)
    app.add_middleware(RequestGuard, max_bytes=get_settings().max_request_bytes)
    return app


app = create_app()
