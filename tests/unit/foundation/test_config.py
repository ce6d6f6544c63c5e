from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import Settings


def test_allowed_networks_from_comma_list() -> None:
    s = Settings(allowed_networks="127.0.0.0/8, ::1/128")
    assert s.allowed_networks == ["127.0.0.0/8", "::1/128"]
    policy = s.address_policy()
    import ipaddress

    assert policy.is_allowed(ipaddress.ip_address("127.0.0.5"))
    assert not policy.is_allowed(ipaddress.ip_address("10.0.0.1"))


def test_bad_cidr_fails_fast() -> None:
    with pytest.raises(ValidationError, match="allowed_networks"):
        Settings(allowed_networks="not-a-network")


def test_retry_schedule_from_env_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_RETRY_SCHEDULE", "0,5,300")
    assert Settings().retry_schedule == [0.0, 5.0, 300.0]


def test_embedded_defaults_need_no_servers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(mode="embedded", data_dir=tmp_path, database_url="", broker_url="")
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.effective_broker_url == "filesystem://"
    assert (
        Settings(mode="distributed", redis_url="redis://r:6379/0").effective_broker_url == "redis://r:6379/0"
    )
