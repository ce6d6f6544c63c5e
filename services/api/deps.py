"""FastAPI dependencies: the session, the settings and the API key check, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from shared.alerts.channels import ChannelRegistry, registry_for
from shared.config import Settings, get_settings
from shared.db import get_engine
from shared.insights.scope import Viewer
from shared.models import ApiKey
from shared.security import keys


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
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiKey:
    """The caller's API key, or 401."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing API key", headers={"WWW-Authenticate": "Bearer"}
        )
    row = keys.authenticate(session=session, key=creds.credentials)
    if row is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return row


def require_admin(key: Annotated[ApiKey, Depends(require_key)]) -> ApiKey:
    """The caller's key when it is an admin key, or 403."""
    if not key.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin key required")
    return key


KeyDep = Annotated[ApiKey, Depends(require_key)]
AdminDep = Annotated[ApiKey, Depends(require_admin)]


def viewer_of(key: ApiKey) -> Viewer:
    """The dashboard's view of a key: whose resources it sees."""
    return Viewer(key_id=key.id, owner_id=None, is_admin=key.is_admin)


def read_viewer(key: Annotated[ApiKey, Depends(require_key)]) -> Viewer:
    """A caller allowed to read (any valid key)."""
    return viewer_of(key)


def write_viewer(key: Annotated[ApiKey, Depends(require_key)]) -> Viewer:
    """A caller allowed to change what its owner owns."""
    return viewer_of(key)


ReaderDep = Annotated[Viewer, Depends(read_viewer)]
WriterDep = Annotated[Viewer, Depends(write_viewer)]
