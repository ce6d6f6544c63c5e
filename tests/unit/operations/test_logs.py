"""JSON logs: one object per line, with the ids of the work (from `extra` or the surrounding context)."""

from __future__ import annotations

import io
import json
import logging

from shared import logs


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter() if fmt == "json" else logging.Formatter(logs.TEXT_FORMAT))
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger(f"nwtest.logs.{fmt}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_carry_ids_from_extra_and_context() -> None:
    logger, stream = _capture("json")
    with logs.context(delivery_ids=[4, 5]):
        logger.info("delivery %s: %s", 4, "failed", extra={"delivery_id": 4})
        with logs.context(alert_id=9):
            logger.warning("alert")
    logger.info("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "delivery 4: failed" and lines[0]["level"] == "INFO"
    assert lines[0]["delivery_id"] == 4 and lines[0]["delivery_ids"] == [4, 5]
    assert lines[1]["alert_id"] == 9 and lines[1]["delivery_ids"] == [4, 5]
    assert "delivery_ids" not in lines[2] and "alert_id" not in lines[2]
    assert lines[0]["ts"].endswith("+00:00") and lines[0]["logger"] == "nwtest.logs.json"


def test_json_keeps_the_traceback_and_task() -> None:
    logger, stream = _capture("json")
    logs.begin(task="pipeline.process_batch", task_id="t-1")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed", extra={"article_id": 3})
    finally:
        logs.end()
    line = json.loads(stream.getvalue())
    assert line["article_id"] == 3 and line["task"] == "pipeline.process_batch" and line["task_id"] == "t-1"
    assert "ValueError: boom" in line["exc"]


def test_text_stays_plain() -> None:
    logger, stream = _capture("text")
    with logs.context(article_id=1):
        logger.info("hello")
    assert stream.getvalue().rstrip().endswith("INFO nwtest.logs.text: hello")
