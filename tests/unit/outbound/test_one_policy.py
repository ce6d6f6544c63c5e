"""Every outbound request goes through shared/outbound: no other module opens network clients itself."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Modules that open connections to the outside world; only shared/outbound may use them directly.
NETWORK_MODULES = {
    "requests",
    "urllib3",
    "smtplib",
    "socket",
    "http.client",
    "urllib.request",
    "aiohttp",
    "ftplib",
}
HTTPX_CALLS = {
    "Client",
    "AsyncClient",
    "HTTPTransport",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "request",
    "stream",
}
# The Apprise channel imports Apprise, whose sends it runs inside shared.outbound.guard.pinned_resolution.
APPRISE_USERS = {"shared/alerts/channels/apprise_channel.py"}


def _offences(path: Path) -> list[str]:
    rel = path.relative_to(REPO).as_posix()
    tree = ast.parse(path.read_text(), filename=rel)
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name in NETWORK_MODULES or name.split(".")[0] in {"requests", "urllib3", "aiohttp"}:
                found.append(f"{rel}:{node.lineno} imports {name}")
            if name.split(".")[0] == "apprise" and rel not in APPRISE_USERS:
                found.append(f"{rel}:{node.lineno} imports {name}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "httpx"
            and node.func.attr in HTTPX_CALLS
        ):
            found.append(f"{rel}:{node.lineno} calls httpx.{node.func.attr}")
    return found


def test_only_the_outbound_package_opens_connections() -> None:
    files = [p for d in ("shared", "services") for p in (REPO / d).rglob("*.py")]
    offences = [o for p in files if "shared/outbound/" not in p.as_posix() for o in _offences(p)]
    assert not offences, "\n".join(offences)
