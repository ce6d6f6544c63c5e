"""docker-compose.yml is validated here (no Docker engine): it parses, every command is a real CLI role,
every NEWSWATCH_ variable is a known setting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from services.cli import build_parser
from shared.config import Settings

REPO = Path(__file__).resolve().parents[3]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_has_every_role() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "api", "fetcher", "pipeline", "notifier", "beat"} <= set(services)
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    assert set(_compose()["volumes"]) >= {"pgdata", "redisdata"}
    assert (REPO / "Dockerfile").is_file()


def test_commands_are_cli_roles() -> None:
    parser = build_parser()
    queues = set()
    for name, svc in _compose()["services"].items():
        cmd = svc.get("command")
        if not cmd or cmd[0] != "newswatch":
            continue
        args = parser.parse_args(cmd[1:])  # exits (fails the test) on an unknown role or option
        assert callable(args.func), name
        if cmd[1] == "worker":
            queues |= set(args.queues.split(","))
    assert queues == {"fetcher", "pipeline", "notifier"}


def test_environment_names_known_settings() -> None:
    known = {f"NEWSWATCH_{name.upper()}" for name in Settings.model_fields}
    text = (REPO / "docker-compose.yml").read_text()
    used = set(re.findall(r"\b(NEWSWATCH_[A-Z_]+)\b", text))
    assert used, "compose sets no NEWSWATCH_ variable"
    assert used <= known, used - known


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    names = [f"NEWSWATCH_{n.upper()}" for n in Settings.model_fields]
    missing = [n for n in names if n not in readme]
    assert not missing, f"settings missing from the README table: {missing}"
