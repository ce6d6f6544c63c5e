"""Suite-wide: paths, the shared_data marker's skip rule, and settings isolated from the developer's env."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()

# Several runs on one machine (worktrees side by side) pick distinct Redis databases with NWTEST_REDIS_DB.
_REDIS_DB = int(os.environ.get("NWTEST_REDIS_DB") or 1 + os.getpid() % 15)

# Tests never read the developer's settings (each integration fixture sets what it needs); where the browser
# test keeps its screenshots (NEWSWATCH_TEST_ARTIFACTS) is a test option, not a setting.
for _key in [k for k in os.environ if k.startswith("NEWSWATCH_") and k != "NEWSWATCH_TEST_ARTIFACTS"]:
    del os.environ[_key]
os.environ["NEWSWATCH_DATA_DIR"] = tempfile.mkdtemp(prefix="newswatch-tests-")
os.environ["NEWSWATCH_SECRET_KEY"] = "test-secret-key"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{SHARED_DATA} is absent (real third-party data lives beside the repo)")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


# Integration settings, fixed before any test module imports the app (the Celery app reads them once).
TEST_DB_NAME = f"newswatch_test_{os.getpid()}"
os.environ.update(
    {
        "NEWSWATCH_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{TEST_DB_NAME}",
        # a Redis database and broker prefix of this run's own: concurrent runs never take each other's tasks
        "NEWSWATCH_REDIS_URL": f"redis://127.0.0.1:6379/{_REDIS_DB}",
        "NEWSWATCH_REDIS_KEY_PREFIX": f"nwtest{os.getpid()}:",
        "NEWSWATCH_ADMIN_API_KEY": "nwk_test_admin_key",
        "NEWSWATCH_DASHBOARD_CACHE_SECONDS": "0",  # tests write then read at once; tests of the cache set it
        "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8",
        "NEWSWATCH_FETCH_SCHEDULE_SECONDS": "1",
        "NEWSWATCH_PIPELINE_SWEEP_SECONDS": "2",
        "NEWSWATCH_PIPELINE_STUCK_AFTER_SECONDS": "4",
        "NEWSWATCH_DELIVERY_SWEEP_SECONDS": "1",
        "NEWSWATCH_DELIVERY_LOCK_SECONDS": "10",
        "NEWSWATCH_RETRY_SCHEDULE": "0,1,1,1,1",
        "NEWSWATCH_WEBHOOK_TIMEOUT_SECONDS": "5",
        "NEWSWATCH_FETCH_TIMEOUT_SECONDS": "3",
    }
)
