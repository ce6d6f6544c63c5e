"""/api/v1/keys: admin-only API key management; a new key is shown once."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.api.deps import AdminDep, SessionDep
from shared.errors import NotFound
from shared.models import ApiKey
from shared.models.base import utcnow
from shared.security import keys

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    admin: bool = False


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    is_admin: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="shown this once; only its hash is stored")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create_key(body: KeyIn, session: SessionDep, _: AdminDep) -> KeyCreated:
    row, key = keys.create_api_key(session=session, name=body.name, is_admin=body.admin)
    session.commit()
    return KeyCreated(**KeyOut.model_validate(row, from_attributes=True).model_dump(), key=key)


@router.get("", response_model=list[KeyOut])
def list_keys(session: SessionDep, _: AdminDep) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: int, session: SessionDep, _: AdminDep) -> Response:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("no such key")
    row.revoked_at = row.revoked_at or utcnow()
    session.add(row)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
