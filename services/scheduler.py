"""The beat schedule: find due feeds, sweep stuck articles and due deliveries."""

from __future__ import annotations

from shared.config import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    """Periodic tasks; each finds its work in the database, so a lost message is found again."""
    return {
        "fetch-due-feeds": {"task": "fetcher.schedule", "schedule": settings.fetch_schedule_seconds},
        "sweep-stuck-articles": {"task": "pipeline.sweep", "schedule": settings.pipeline_sweep_seconds},
        "sweep-due-deliveries": {"task": "notifier.sweep", "schedule": settings.delivery_sweep_seconds},
        "trend-events": {"task": "notifier.trends", "schedule": settings.trend_check_seconds},
        "search-backfill": {"task": "pipeline.index_missing", "schedule": settings.search_backfill_seconds},
    }
