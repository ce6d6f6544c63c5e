"""Open probes: /healthz (the process answers) and /readyz (database and broker reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.api.deps import SessionDep, SettingsDep
from services.dispatch import enqueue_failures
from shared.config import Settings
from shared.heartbeats import EMBEDDED_WORKERS, states
from shared.nlp import russian

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def broker_ok(settings: Settings) -> tuple[bool, str]:
    """Is the Celery broker reachable?"""
    url = settings.effective_broker_url
    if url.startswith("filesystem"):
        folder = settings.data_dir / "broker" / "queue"
        return folder.is_dir(), f"filesystem {folder}"
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
            client.close()
        except redis.RedisError as exc:
            return False, str(exc)
        return True, "redis"
    return True, "not checked"


@router.get("/readyz")
def readyz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """Database and broker reachable; in embedded mode every worker's heartbeat is fresh (else 503)."""
    checks: dict[str, str] = {}
    ready = True
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        ready = False
        checks["database"] = f"error: {exc}"
    ok, detail = broker_ok(settings)
    checks["broker"] = "ok" if ok else f"error: {detail}"
    ready = ready and ok
    # messages this API process could not enqueue (logged with their ids; the sweeps recover the work)
    body: dict[str, object] = {"checks": checks, "enqueue_failures": enqueue_failures()}
    # ready, but doing less than it should: each entry says what is missing and how to install it
    body["degraded"] = [reason for reason in (russian.missing(),) if reason]
    if settings.mode == "embedded":  # the workers are ours to watch: each must have beaten lately
        workers = states(
            settings.data_dir, EMBEDDED_WORKERS, max_age=settings.worker_heartbeat_timeout_seconds
        )
        body["workers"] = {name: w.to_dict() for name, w in workers.items()}
        ready = ready and all(w.ok for w in workers.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **body}, status_code=200 if ready else 503
    )
