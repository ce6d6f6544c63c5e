"""A missing Russian model (natasha) is never silent: the reason names the install, start-up logs it, and
/readyz lists it under `degraded`."""

from __future__ import annotations

import logging

import pytest

from services.api.routers import health
from shared.config import fresh_settings
from shared.nlp import russian


class _Session:
    def execute(self, _: object) -> None:  # the readiness probe's SELECT 1
        return None


def _without(*names: str):  # type: ignore[no-untyped-def]
    real = russian.find_spec

    def find_spec(name: str) -> object | None:
        return None if name in names else real(name)

    return find_spec


def test_present_model_is_not_degraded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "broker_ok", lambda settings: (True, "ok"))
    assert russian.missing() is None and russian.RussianNER().available
    body = health.readyz(_Session(), fresh_settings()).body  # type: ignore[arg-type]
    assert b'"degraded":[]' in body


def test_missing_natasha_is_logged_and_shown_in_readyz(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(russian, "find_spec", _without("natasha"))
    monkeypatch.setattr(health, "broker_ok", lambda settings: (True, "ok"))
    ner = russian.RussianNER()
    assert not ner.available and ner.spans(["Путин прибыл в Астану"]) == [[]]
    with caplog.at_level(logging.ERROR, logger="shared.nlp.russian"):
        reason = russian.log_if_missing()
    assert reason is not None and "natasha" in reason and "pip install" in reason
    assert reason in caplog.text
    response = health.readyz(_Session(), fresh_settings())  # type: ignore[arg-type]
    assert response.status_code == 200  # degraded, still ready: every other language works
    assert b"Russian NER model unavailable (missing: natasha)" in response.body
