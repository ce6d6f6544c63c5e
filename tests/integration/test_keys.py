"""Accounts and keys through the API and the CLI: scopes, rotation without losing what the account owns,
last-used times, no lock-out (the last admin key stays, the configured admin key comes back)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from services.cli import main
from shared.db import session_scope
from shared.models.base import utcnow
from shared.security import accounts
from tests.integration.conftest import ADMIN, ADMIN_KEY

pytestmark = pytest.mark.integration


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _key(api: TestClient, name: str, scopes: list[str], owner: str | None = None) -> dict[str, object]:
    r = api.post("/api/v1/keys", json={"name": name, "scopes": scopes, "owner": owner})
    assert r.status_code == 201, r.text
    return r.json()


def test_scopes_read_write_admin(api: TestClient) -> None:
    reader = _bearer(str(_key(api, "reader", ["read"])["key"]))
    writer = _bearer(str(_key(api, "writer", ["write"])["key"]))
    assert api.get("/api/v1/watches", headers=reader).status_code == 200
    assert api.post("/api/v1/watches", json={"name": "w", "query": "SCO"}, headers=reader).status_code == 403
    assert api.post("/api/v1/watches/validate", json={"query": "SCO"}, headers=reader).status_code == 403
    assert api.post("/api/v1/watches", json={"name": "w", "query": "SCO"}, headers=writer).status_code == 201
    assert api.get("/api/v1/keys", headers=writer).status_code == 403
    assert (
        api.post("/api/v1/keys", json={"name": "x", "scopes": ["admin"]}, headers=writer).status_code == 403
    )
    me = api.get("/api/v1/me", headers=writer).json()
    assert me["scopes"] == ["write"] and me["owner"] == "writer"
    bad = api.post("/api/v1/keys", json={"name": "x", "scopes": ["root"]})
    assert bad.status_code == 422
    assert api.post("/api/v1/keys", json={"name": "x", "scopes": []}).status_code == 422


def test_key_shown_once_listed_with_last_use_and_revoked(api: TestClient) -> None:
    created = _key(api, "laptop", ["read"])
    key = str(created["key"])
    listed = {k["id"]: k for k in api.get("/api/v1/keys").json()}
    row = listed[created["id"]]
    assert "key" not in row and key not in json.dumps(row) and row["last_used_at"] is None
    assert row["scopes"] == ["read"] and row["owner"] == "laptop" and row["prefix"] == key[:8]
    assert api.get("/api/v1/alerts", headers=_bearer(key)).status_code == 200
    used = api.get(f"/api/v1/keys/{created['id']}").json()
    assert used["last_used_at"] is not None
    assert api.delete(f"/api/v1/keys/{created['id']}").status_code == 204
    assert api.get("/api/v1/alerts", headers=_bearer(key)).status_code == 401
    assert api.get(f"/api/v1/keys/{created['id']}").json()["revoked_at"] is not None
    assert api.delete("/api/v1/keys/999999").status_code == 404


def test_rotation_keeps_what_the_account_owns(api: TestClient) -> None:
    old = _key(api, "newsroom", ["write"])
    old_h = _bearer(str(old["key"]))
    watch = api.post("/api/v1/watches", json={"name": "mine", "query": "SCO"}, headers=old_h).json()
    new = _key(api, "newsroom-2025", ["write"], owner="newsroom")
    assert new["owner_id"] == old["owner_id"]
    assert api.delete(f"/api/v1/keys/{old['id']}").status_code == 204
    new_h = _bearer(str(new["key"]))
    assert api.get(f"/api/v1/watches/{watch['id']}", headers=new_h).status_code == 200
    assert (
        api.patch(f"/api/v1/watches/{watch['id']}", json={"name": "still"}, headers=new_h).status_code == 200
    )
    other = _bearer(str(_key(api, "elsewhere", ["write"])["key"]))
    assert api.get(f"/api/v1/watches/{watch['id']}", headers=other).status_code == 404
    assert (
        api.post("/api/v1/keys", json={"name": "x", "scopes": ["read"], "owner": "nobody"}).status_code == 422
    )
    taken = api.post("/api/v1/keys", json={"name": "newsroom", "scopes": ["read"]})
    assert taken.status_code == 409 and taken.json()["code"] == "name_taken"


def test_the_last_working_admin_key_cannot_be_revoked(api: TestClient) -> None:
    me = api.get("/api/v1/me").json()
    refused = api.delete(f"/api/v1/keys/{me['key_id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "last_admin_key"
    second = _key(api, "second admin", ["admin"])
    assert api.delete(f"/api/v1/keys/{me['key_id']}").status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    again = api.delete(f"/api/v1/keys/{second['id']}", headers=_bearer(str(second["key"])))
    assert again.status_code == 409, "the second admin key is now the last one"


def test_configured_admin_key_is_restored_at_start(
    api: TestClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    second = _key(api, "stand-in", ["admin"])
    me = api.get("/api/v1/me").json()
    assert api.delete(f"/api/v1/keys/{me['key_id']}", headers=_bearer(str(second["key"]))).status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    with caplog.at_level(logging.WARNING):
        assert main(["seed", "--no-feeds", "--no-enqueue"]) == 0
    assert any(
        "restored" in r.getMessage() and "NEWSWATCH_ADMIN_API_KEY" in r.getMessage() for r in caplog.records
    )
    assert api.get("/api/v1/me", headers=ADMIN).json()["scopes"] == ["read", "write", "admin"]
    capsys.readouterr()
    # the seeded watches belong to the bootstrap admin's (system) account: other accounts do not see them
    seeded = api.get("/api/v1/watches").json()
    assert seeded and {w["owner_id"] for w in seeded} == {me["owner_id"]}
    outsider = _bearer(str(_key(api, "outsider", ["read"])["key"]))
    assert api.get("/api/v1/watches", headers=outsider).json() == []
    assert api.get("/api/v1/me").status_code == 200 and ADMIN_KEY


def test_cli_creates_lists_and_revokes_keys(api: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "cli-made", "--scopes", "read,write"]) == 0
    key = capsys.readouterr().out.strip()
    assert (
        key.startswith("nwk_") and api.get("/api/v1/me", headers=_bearer(key)).json()["owner"] == "cli-made"
    )
    assert main(["keys", "create", "cli-second", "--scopes", "read", "--owner", "cli-made"]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["cli-made"]["scopes"] == ["read", "write"] and rows["cli-second"]["owner"] == "cli-made"
    assert rows["cli-made"]["last_used_at"] is not None and rows["cli-second"]["last_used_at"] is None
    assert main(["keys", "list"]) == 0
    table = capsys.readouterr().out
    assert "cli-second" in table and "read" in table
    assert main(["keys", "revoke", str(rows["cli-made"]["id"])]) == 0
    assert api.get("/api/v1/me", headers=_bearer(key)).status_code == 401
    admin_id = api.get("/api/v1/me").json()["key_id"]
    assert main(["keys", "revoke", str(admin_id)]) == 2
    err = capsys.readouterr().err
    assert "last working admin key" in err and "Traceback" not in err
    assert main(["keys", "create", "x", "--scopes", "root"]) == 2


def test_a_cheap_check_tells_whether_a_key_still_works(api: TestClient) -> None:
    """For code that holds a key for long (an alert stream): one read per key, or one for all."""
    created = _key(api, "streamer", ["read"])
    key_id = int(str(created["id"]))
    before = utcnow()
    with session_scope() as s:
        assert accounts.key_is_active(session=s, key_id=key_id)
        assert accounts.revoked_since(session=s, since=before) == set()
    assert api.delete(f"/api/v1/keys/{key_id}").status_code == 204
    with session_scope() as s:
        assert not accounts.key_is_active(session=s, key_id=key_id)
        assert not accounts.key_is_active(session=s, key_id=999_999)
        assert accounts.revoked_since(session=s, since=before) == {key_id}
