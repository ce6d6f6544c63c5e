"""FastAPI dependencies: the session, the settings and the caller (API key, account, scopes) as aliases.

Every /api/v1 route takes `CallerDep` (any GET needs `read`, anything else `write`) or `AdminDep`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from shared.alerts.channels import ChannelRegistry, registry_for
from shared.config import Settings, get_settings
from shared.db import get_engine
from shared.errors import Unauthenticated
from shared.security import accounts
from shared.security.access import ADMIN, READ, WRITE, Caller


def get_session() -> Iterator[Session]:
    """One session per request; routes commit explicitly before they enqueue work."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_channels(settings: SettingsDep) -> ChannelRegistry:
    """The process's delivery channels, built from the settings (tests override this with their own)."""
    return registry_for(settings)


ChannelsDep = Annotated[ChannelRegistry, Depends(get_channels)]
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")


def require_key(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, or 401; a GET needs the read scope, any other method the write scope (else 403)."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthenticated("missing API key")
    caller = accounts.authenticate(session=session, key=creds.credentials)
    if caller is None:
        raise Unauthenticated("invalid API key")
    if session.dirty:
        # the key's last-used time (at most once a minute). Otherwise the route goes on in the same
        # transaction on the same connection: a commit here returned it to the pool, and the route's
        # first query checked it out again (a pre-ping, a BEGIN and the COMMIT: 3 round trips a request)
        session.commit()
    caller.require(READ if request.method in ("GET", "HEAD") else WRITE)
    return caller


def require_admin(caller: Annotated[Caller, Depends(require_key)]) -> Caller:
    """The caller when its key has the admin scope, or 403."""
    caller.require(ADMIN)
    return caller


def require_metrics_access(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """/metrics: a read-scoped key (401/403 otherwise), unless NEWSWATCH_METRICS_PUBLIC opens it."""
    if not settings.metrics_public:
        require_key(request, session, creds)


CallerDep = Annotated[Caller, Depends(require_key)]
AdminDep = Annotated[Caller, Depends(require_admin)]
