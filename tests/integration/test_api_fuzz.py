"""Schema-driven fuzzing of every route (the schemathesis CLI) against a real uvicorn server on 127.0.0.1
and the real PostgreSQL: no server error, every status answered is documented, every body matches its
schema (the error bodies included).

Bounded: EXAMPLES per operation and phase, MAX_SECONDS for the run. No request leaves the machine: the
server's address policy resolves every name to a documentation address (refused before any connection),
and the one route that connects out at once (POST /subscriptions/{id}/test) is left out; fetches and
deliveries are only queued (no worker runs). NWTEST_FUZZ_SEED picks another seed (the default is fixed so
a failure reproduces).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from shared.outbound.policy import AddressPolicy
from tests.integration.conftest import ADMIN_KEY
from tests.support.apiserver import serve_api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

EXAMPLES = 15
MAX_SECONDS = 75
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CONNECTS_OUT = "^/api/v1/subscriptions/\\{sub_id\\}/test$"


def _nowhere(host: str, port: int) -> list[str]:
    return ["192.0.2.1"]  # TEST-NET-1: refused by the policy, so nothing is ever connected to


def test_no_server_error_and_every_answer_documented(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(Settings, "address_policy", lambda self: AddressPolicy(resolver=_nowhere))
    # something for the id routes to find
    assert api.post("/api/v1/watches", json={"name": "fuzz", "query": "SCO"}).status_code == 201
    assert (
        api.post("/api/v1/articles", json={"title": "SCO summit", "text": "Leaders met."}).status_code == 202
    )
    report = tmp_path / "report.json"
    with serve_api() as base_url:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{base_url}/openapi.json",
                "--header",
                f"Authorization: Bearer {ADMIN_KEY}",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(EXAMPLES),
                "--max-time",
                str(MAX_SECONDS),
                "--seed",
                os.environ.get("NWTEST_FUZZ_SEED", "20261126"),
                # one worker: schemathesis's threads build hypothesis strategies concurrently, and
                # CPython 3.11's ast module is not thread-safe there
                # ("SystemError: AST constructor recursion depth mismatch")
                "--workers",
                "1",
                "--exclude-path-regex",
                CONNECTS_OUT,
                "--exclude-method",
                "TRACE",
                "--request-timeout",
                "20",
                "--suppress-health-check",
                "all",
                "--report",
                "json",
                "--report-json-path",
                str(report),
                "--warnings",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=MAX_SECONDS + 120,
            cwd=tmp_path,  # its failure cache (.schemathesis/) stays out of the checkout
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
        )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, f"schemathesis found failures:\n{summary}\n{run.stderr[-2000:]}"
    data = json.loads(report.read_text())
    assert data, summary
