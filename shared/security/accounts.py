"""Accounts and the lifecycle of their API keys: create (shown once), list, authenticate, revoke.

Rules that keep the service reachable: the last working admin key cannot be revoked (LastAdminKey, a
Conflict), and starting with NEWSWATCH_ADMIN_API_KEY always leaves that key a working admin key of the
system account (restored, with a warning in the log, if it had been revoked or lost its admin scope).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.errors import Conflict, InvalidInput, NotFound
from shared.models import Account, ApiKey
from shared.models.account import SYSTEM_ACCOUNT_ID, SYSTEM_ACCOUNT_NAME
from shared.models.base import to_utc, utcnow
from shared.security.access import ADMIN, SCOPES, Caller, grants, normalize_scopes
from shared.security.keys import generate_api_key, hash_key

log = logging.getLogger(__name__)

BOOTSTRAP_KEY_NAME = "bootstrap admin"
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often per key


class AccountExists(Conflict):
    """An account with this name exists already."""

    code = "name_taken"


class LastAdminKey(Conflict):
    """Revoking this key would leave no working admin key."""

    code = "last_admin_key"


# --- accounts ----------------------------------------------------------------------------------------------


def system_account(*, session: Session) -> Account:
    """The system account (created by the migrations; written again here if it went missing)."""
    found = session.get(Account, SYSTEM_ACCOUNT_ID)
    if found is None:
        found = Account(id=SYSTEM_ACCOUNT_ID, name=SYSTEM_ACCOUNT_NAME)
        session.add(found)
        session.flush()
    return found


def account_by_name(*, session: Session, name: str) -> Account | None:
    """One account by its unique name."""
    return session.exec(select(Account).where(Account.name == name)).first()


def get_account(*, session: Session, account_id: int) -> Account:
    """One account by id; NotFound otherwise."""
    found = session.get(Account, account_id)
    if found is None:
        raise NotFound("no such account")
    return found


def create_account(*, session: Session, name: str) -> Account:
    """A new account; AccountExists when the name is taken."""
    if account_by_name(session=session, name=name) is not None:
        raise AccountExists(f"an account named {name!r} exists already")
    account = Account(name=name)
    session.add(account)
    session.flush()
    return account


def list_accounts(*, session: Session) -> list[tuple[Account, int]]:
    """Every account with its number of working keys, in id order."""
    active = (
        select(ApiKey.account_id, func.count().label("n"))
        .where(col(ApiKey.revoked_at).is_(None))
        .group_by(col(ApiKey.account_id))
        .subquery()
    )
    q = (
        select(Account, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.account_id == Account.id)
        .order_by(col(Account.id))
    )
    return [(a, int(n)) for a, n in session.exec(q)]


# --- keys --------------------------------------------------------------------------------------------------


def create_key(
    *,
    session: Session,
    name: str,
    scopes: Sequence[str],
    owner: str | None = None,
    key: str | None = None,
    account_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Store a key (generated unless given) for an account; returns the row and the key, shown once.

    `owner` names an existing account (a second key for it: rotation); without it a new account named
    after the key is created. `account_id` (internal callers) picks the account directly.
    """
    clean = normalize_scopes(scopes)
    if account_id is None:
        if owner is None:
            account_id = create_account(session=session, name=name).id
        else:
            found = account_by_name(session=session, name=owner)
            if found is None:
                raise InvalidInput(f"no account named {owner!r}")
            account_id = found.id
    key = key or generate_api_key()
    row = ApiKey(name=name, prefix=key[:8], key_hash=hash_key(key), scopes=clean, account_id=account_id or 0)
    session.add(row)
    session.flush()
    return row, key


def list_keys(*, session: Session, account_id: int | None = None) -> list[ApiKey]:
    """Keys (revoked ones too) in id order, of one account or of all."""
    q = select(ApiKey).order_by(col(ApiKey.id))
    if account_id is not None:
        q = q.where(ApiKey.account_id == account_id)
    return list(session.exec(q))


def get_key(*, session: Session, key_id: int) -> ApiKey:
    """One key by id; NotFound otherwise."""
    found = session.get(ApiKey, key_id)
    if found is None:
        raise NotFound("no such key")
    return found


def _working_admin_ids(session: Session, *, lock: bool = False) -> list[int]:
    q = select(ApiKey).where(col(ApiKey.revoked_at).is_(None))
    if lock:
        q = q.with_for_update()  # concurrent revocations of the last two admin keys serialise here
    return [k.id for k in session.exec(q) if k.id is not None and grants(k.scopes, ADMIN)]


def revoke_key(*, session: Session, key_id: int, now: datetime | None = None) -> ApiKey:
    """Revoke a key (idempotent); LastAdminKey when it is the last working admin key."""
    row = get_key(session=session, key_id=key_id)
    if row.revoked_at is not None:
        return row
    if grants(row.scopes, ADMIN) and _working_admin_ids(session, lock=True) == [row.id]:
        raise LastAdminKey("this is the last working admin key: create another admin key first")
    row.revoked_at = now or utcnow()
    session.add(row)
    session.flush()
    return row


def authenticate(*, session: Session, key: str, now: datetime | None = None) -> Caller | None:
    """The caller for this bearer token, or None; records the key's use (at most once a minute) in the
    session, left for the caller to commit (`session.dirty` tells whether there is anything to commit)."""
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    now = now or utcnow()
    last = to_utc(row.last_used_at)
    if last is None or now - last >= TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
    return Caller(key_id=row.id, account_id=row.account_id, scopes=tuple(row.scopes))


def key_is_active(*, session: Session, key_id: int) -> bool:
    """Is this key still valid (not revoked)? One primary-key read: cheap enough to poll from a stream."""
    # columns, not the entity: a long-lived session must not answer from its identity map
    row = session.exec(select(ApiKey.id, ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return row is not None and row[1] is None


def revoked_since(*, session: Session, since: datetime) -> set[int]:
    """Ids of the keys revoked at or after a time (one query for every open stream at once)."""
    q = select(ApiKey.id).where(col(ApiKey.revoked_at) >= since)
    return {i for i in session.exec(q) if i is not None}


def ensure_admin_key(*, session: Session, configured: str | None) -> str | None:
    """Make sure a working admin key exists; returns a newly generated key (to print once) or None.

    A configured key (NEWSWATCH_ADMIN_API_KEY) is always left working, with the admin scope, in the
    system account: created if missing, restored with a warning if it had been revoked or narrowed.
    """
    system_account(session=session)
    if configured:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(configured))).first()
        if row is None:
            create_key(
                session=session,
                name=BOOTSTRAP_KEY_NAME,
                scopes=SCOPES,
                key=configured,
                account_id=SYSTEM_ACCOUNT_ID,
            )
        elif row.revoked_at is not None or not grants(row.scopes, ADMIN):
            log.warning(
                "NEWSWATCH_ADMIN_API_KEY (key %s, %s) was %s: restored as a working admin key",
                row.id,
                row.prefix,
                "revoked" if row.revoked_at is not None else f"limited to {row.scopes}",
            )
            row.revoked_at = None
            row.scopes = list(SCOPES)
            session.add(row)
            session.flush()
        return None
    if _working_admin_ids(session):
        return None
    _, key = create_key(session=session, name=BOOTSTRAP_KEY_NAME, scopes=SCOPES, account_id=SYSTEM_ACCOUNT_ID)
    return key
