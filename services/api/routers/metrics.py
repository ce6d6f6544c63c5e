"""GET /metrics: Prometheus text. A read-scoped API key unless NEWSWATCH_METRICS_PUBLIC is true."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.api.deps import SessionDep, SettingsDep, require_metrics_access
from services.api.errors import errors_doc
from services.queue import queue_depths
from shared import metrics
from shared.insights.gauges import snapshot

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_metrics_access)],
    responses={
        200: {"content": {metrics.CONTENT_TYPE: {}}, "description": "Prometheus text format"},
        **errors_doc(401, 403),
    },
)
def prometheus_metrics(session: SessionDep, settings: SettingsDep) -> Response:
    """Counters of every process on this host, per-stage latency histograms, queue depths, backlogs and
    feed states."""
    snap = snapshot(session=session, queue_depths=queue_depths(settings))
    return Response(metrics.exposition(snap), media_type=metrics.CONTENT_TYPE)
