"""docker-compose.yml is validated here (no Docker engine): it parses, every command is a real CLI role,
every NEWSWATCH_ variable is a known setting."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
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


def _compose_tool() -> list[str] | None:
    """Debian's docker-compose, or the docker CLI's compose plugin (scripts/ensure-compose.sh)."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


NEWSWATCH_ROLES = ("migrate", "api", "fetcher", "pipeline", "notifier", "beat")


def test_the_compose_tool_accepts_the_file_and_requires_the_secrets(tmp_path: Path) -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip(
            "no compose tool (docker-compose or docker compose); scripts/ensure-compose.sh installs one"
        )
    env = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "NEWSWATCH_SECRET_KEY")}
    env.update(
        POSTGRES_PASSWORD="pw-from-env", NEWSWATCH_SECRET_KEY="k", NEWSWATCH_PUBLIC_URL="https://nw.example"
    )
    command = [*tool, "--project-directory", str(tmp_path), "-f", str(REPO / "docker-compose.yml"), "config"]
    ok = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)
    api = resolved["services"]["api"]["environment"]
    assert "pw-from-env" in api["NEWSWATCH_DATABASE_URL"]
    assert api["NEWSWATCH_PUBLIC_URL"] == "https://nw.example"
    del env["POSTGRES_PASSWORD"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "POSTGRES_PASSWORD" in refused.stderr


def test_one_build_a_data_volume_and_no_password_in_the_file() -> None:
    compose = _compose()
    services = compose["services"]
    built = [name for name, svc in services.items() if "build" in svc]
    assert built == ["migrate"]  # the image is built once; every other role runs its tag
    image = services["migrate"]["image"]
    for name in NEWSWATCH_ROLES:
        assert services[name]["image"] == image, name
        assert "data:/data" in services[name]["volumes"], name  # beat schedule, heartbeats survive a recreate
    assert "data" in compose["volumes"]
    text = (REPO / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: newswatch" not in text and "newswatch:newswatch@" not in text
    assert "NEWSWATCH_PUBLIC_URL" in services["api"]["environment"]
