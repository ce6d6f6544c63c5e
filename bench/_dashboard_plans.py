"""EXPLAIN (ANALYZE) of the SQL behind each dashboard query: which indexes serve it, and its time.

Each request runs once in process (FastAPI's TestClient on the same app and database); every statement it
sends is captured and explained with its parameters. Plans list the index scans they use.
"""

from __future__ import annotations

import os
import re
from typing import Any

from sqlalchemy import event

_INDEX = re.compile(r"(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)")
_SEQ = re.compile(r"Seq Scan on (\w+)")
_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


def explain_all(url: str, plan: dict[str, list[str]], key: str) -> dict[str, Any]:
    """{query kind: [{statement head, indexes, seq scans, ms}]} for the first variant of each kind."""
    os.environ["NEWSWATCH_DATABASE_URL"] = url
    os.environ["NEWSWATCH_ADMIN_API_KEY"] = key
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from shared.config import get_settings
    from shared.db import engine_for

    get_settings.cache_clear()
    engine = engine_for(url)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "api_keys" not in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    out: dict[str, Any] = {}
    with TestClient(create_app(), headers={"Authorization": f"Bearer {key}"}) as client:
        for kind, paths in plan.items():
            if kind.startswith("baseline"):
                continue
            captured.clear()
            client.get(paths[0])
            statements = list(captured)
            rows = []
            with engine.connect() as conn:
                for statement, params in statements:
                    text = "\n".join(
                        r[0] for r in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
                    )
                    rows.append(
                        {
                            "sql": " ".join(statement.split())[:160],
                            "indexes": sorted(set(_INDEX.findall(text))),
                            "seq_scans": sorted(set(_SEQ.findall(text))),
                            "ms": float(m.group(1)) if (m := _TIME.search(text)) else None,
                        }
                    )
            out[kind] = {"path": paths[0], "statements": rows}
    event.remove(engine, "before_cursor_execute", capture)
    return out
