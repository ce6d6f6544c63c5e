"""docker-compose.yml, run without a container engine: every Newswatch service of the file starts as a local
process with its own command and environment, in the order of its depends_on conditions, against a private
PostgreSQL and Redis standing in for the `postgres` and `redis` services (host names mapped to 127.0.0.1,
ports remapped, container paths mapped to temporary folders). An article goes through the api service to a
verified webhook, each service's health check passes, and the pipeline service scales to two processes.

A wrong command, a missing variable or a role that does not start fails here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from tests.support.privateservers import PrivatePostgres, PrivateRedis
from tests.support.processes import REPO, Proc, free_port, until
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration

SECRET = "compose-secret-key"
ADMIN_KEY = "nwk_compose_admin_key"
DEPLOY_ENV = {  # what an operator exports before `docker compose up`
    "NEWSWATCH_SECRET_KEY": SECRET,
    "NEWSWATCH_ADMIN_API_KEY": ADMIN_KEY,
    "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8",  # the receiver is on loopback
    "POSTGRES_PASSWORD": "compose-db-password",  # required by the file (the postgres service and the URL)
}
NEWSWATCH_BIN = Path(sys.executable).parent / "newswatch"  # the console script the image runs


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (an unset required variable fails the test)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        got = env.get(name, "")
        if op == ":?" and not got:
            pytest.fail(f"compose needs {name}: {arg}")
        if op == ":-" and not got:
            return arg
        return got

    return re.sub(r"\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}", one, value)


class Deployment:
    """The compose file's services as local processes."""

    def __init__(self, compose: dict[str, Any], pg: PrivatePostgres, rds: PrivateRedis, root: Path) -> None:
        self.services: dict[str, Any] = compose["services"]
        self.pg, self.rds, self.root = pg, rds, root
        self.ports: dict[str, int] = {}
        self.procs: dict[str, list[Proc]] = {}

    def ours(self) -> list[str]:
        """Services built from this repository (the others are stood in for)."""
        return [
            n
            for n, s in self.services.items()
            if s.get("build") or str(s.get("image", "")).startswith("newswatch")
        ]

    def order(self) -> list[list[str]]:
        """Waves of services: each starts when every service it depends on is up (or finished)."""
        left = self.ours()
        done = {n for n in self.services if n not in left}
        waves = []
        while left:
            wave = [n for n in left if set(self.services[n].get("depends_on") or {}) <= done]
            assert wave, f"depends_on cycle among {left}"
            waves.append(wave)
            done |= set(wave)
            left = [n for n in left if n not in wave]
        return waves

    def _map(self, value: str) -> str:
        value = value.replace("@postgres:5432/", f"@127.0.0.1:{self.pg.port}/").replace(
            "redis://redis:6379", f"redis://127.0.0.1:{self.rds.port}"
        )
        if value.startswith("/"):  # a path inside the container: a folder of the test
            folder = self.root / value.strip("/").replace("/", "_")
            folder.mkdir(exist_ok=True)
            return str(folder)
        return value

    def env(self, name: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        out = dict(base)
        for key, raw in (self.services[name].get("environment") or {}).items():
            out[key] = self._map(_interpolate(str(raw), {**base, **DEPLOY_ENV}))
        return out

    def command(self, name: str) -> list[str]:
        cmd = [str(c) for c in self.services[name]["command"]]
        assert cmd[0] == "newswatch", cmd
        for mapping in self.services[name].get("ports") or []:
            inner = str(mapping).rsplit(":", 1)[-1]
            self.ports[inner] = self.ports.get(inner) or free_port()
            cmd = [str(self.ports[inner]) if c == inner else c for c in cmd]
        return [str(NEWSWATCH_BIN), *cmd[1:]]

    def start(self, name: str) -> Proc:
        cmd = self.command(name)
        proc = Proc([], env=self.env(name), name=f"compose-{name}")
        proc.env = self.env(name)
        log = proc.log_path.open("ab")
        proc.popen = subprocess.Popen(
            cmd, cwd=self.root, env=proc.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs.setdefault(name, []).append(proc)
        return proc

    def healthy(self, name: str, proc: Proc) -> bool:
        check = (self.services[name].get("healthcheck") or {}).get("test")
        if not check:
            return proc.alive()
        assert check[0] == "CMD", check
        if "worker" in self.services[name]["command"] and " ready." not in proc.log():
            return False  # not started yet: no health-check process (a Python start each) while it boots
        args = [c for c in check[1:]]
        for inner, outer in self.ports.items():
            args = [a.replace(f":{inner}/", f":{outer}/") for a in args]
        exe = {"python": sys.executable, "newswatch": str(NEWSWATCH_BIN)}.get(args[0], args[0])
        done = subprocess.run([exe, *args[1:]], env=proc.env, cwd=self.root, capture_output=True, timeout=60)
        return done.returncode == 0 and proc.alive()

    def stop(self) -> None:
        everyone = [p for procs in self.procs.values() for p in procs]
        for p in everyone:  # all are told at once (compose stops them in parallel too), then each is awaited
            if p.popen is not None and p.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.popen.pid, signal.SIGTERM)
        for p in everyone:
            p.stop(timeout=20)


@pytest.fixture()
def deployment() -> Iterator[Deployment]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    pg, rds = PrivatePostgres().start(), PrivateRedis().start()
    pgenv = {
        k: _interpolate(str(v), DEPLOY_ENV) for k, v in compose["services"]["postgres"]["environment"].items()
    }
    with psycopg.connect(pg.admin_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE ROLE \"{pgenv['POSTGRES_USER']}\" LOGIN PASSWORD '{pgenv['POSTGRES_PASSWORD']}'"
        )
        conn.execute(f'CREATE DATABASE "{pgenv["POSTGRES_DB"]}" OWNER "{pgenv["POSTGRES_USER"]}"')
    root = Path(tempfile.mkdtemp(prefix="nwtest-compose-"))
    dep = Deployment(compose, pg, rds, root)
    try:
        yield dep
    finally:
        dep.stop()
        rds.close()
        pg.close()


def test_compose_file_runs(deployment: Deployment, server: LocalServer) -> None:
    waves = deployment.order()
    print("start order:", waves)
    assert waves[0] == ["migrate"], waves
    for wave in waves:
        for name in wave:
            proc = deployment.start(name)
            cond = {
                s: c.get("condition") for other in deployment.services.values()
                for s, c in (other.get("depends_on") or {}).items() if isinstance(c, dict)
            }.get(name)  # fmt: skip
            if cond == "service_completed_successfully":
                assert proc.popen is not None
                code = proc.popen.wait(timeout=300)
                assert code == 0, f"{name} exited {code}:\n{proc.log()[-3000:]}"
            if name == "pipeline":  # scaled to two processes (`--scale pipeline=2`), started with the first
                deployment.start("pipeline")
        for name in wave:
            if deployment.services[name].get("restart") == "no":
                continue
            proc = deployment.procs[name][0]
            until(f"{name} healthy", lambda n=name, p=proc: deployment.healthy(n, p), proc, timeout=180)

    api_port = deployment.ports["8000"]
    base = f"http://127.0.0.1:{api_port}"
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
    receiver = Receiver()
    server.routes["/hook"] = receiver
    watch = client.post("/api/v1/watches", json={"name": "compose", "query": "Quixotic"})
    assert watch.status_code == 201, watch.text
    sub = client.post(
        "/api/v1/subscriptions", json={"url": server.url("/hook"), "watches": [watch.json()["id"]]}
    )
    assert sub.status_code == 201, sub.text
    receiver.secret = sub.json()["secret"]

    # the pipeline service runs as two processes, both ready
    second = deployment.procs["pipeline"][1]
    until("second pipeline process ready", lambda: " ready." in second.log(), second, timeout=180)

    arts = [
        {"title": f"Quixotic report {i}", "text": f"{topic} Quixotic.", "url": f"http://127.0.0.1/c{i}"}
        for i, topic in enumerate(
            [
                "Rivers flooded the valley",
                "A new bridge opened",
                "Elections were called",
                "The harvest failed",
                "A museum reopened",
                "Trains stopped for a strike",
            ]
        )
    ]
    for art in arts:
        assert client.post("/api/v1/articles", json=art).status_code == 202
    api_proc = deployment.procs["api"][0]
    until("six verified webhooks", lambda: len(receiver.verified) >= 6, api_proc, timeout=180)
    assert receiver.rejected == []
    assert {e["body"]["data"]["article"]["title"] for e in receiver.verified} == {a["title"] for a in arts}
    assert all(p.alive() for procs in deployment.procs.values() for p in procs if p.name != "compose-migrate")
    assert len(deployment.procs["pipeline"]) == 2
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    metrics = client.get("/metrics").text  # the metrics volume: the workers' counters reach the API
    assert 'newswatch_articles_total{outcome="processed",source="api"} 6.0' in metrics, metrics[:3000]
