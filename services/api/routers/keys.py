"""/api/v1/keys (admin): create a key for an account (shown once), list, read, revoke; /api/v1/accounts
(admin) and /api/v1/me (any key: who am I, what may I do)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.api.deps import AdminDep, CallerDep, SessionDep
from services.api.errors import errors_doc
from services.api.params import IdPath
from shared.security import accounts
from shared.security.schemas import AccountIn, AccountOut, KeyCreated, KeyIn, KeyOut, Me

router = APIRouter(prefix="/api/v1", tags=["keys"])


@router.get("/me", response_model=Me)
def me(session: SessionDep, caller: CallerDep) -> Me:
    """The calling key: its name, scopes and account."""
    key = accounts.get_key(session=session, key_id=caller.key_id)
    account = accounts.get_account(session=session, account_id=key.account_id)
    return Me(
        key_id=caller.key_id,
        name=key.name,
        scopes=list(caller.scopes),
        owner_id=key.account_id,
        owner=account.name,
    )


@router.post(
    "/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated, responses=errors_doc(409)
)
def create_key(body: KeyIn, session: SessionDep, _: AdminDep) -> KeyCreated:
    """A new key for the account named `owner` (or a new account named after the key); shown once."""
    row, key = accounts.create_key(session=session, name=body.name, scopes=body.scopes, owner=body.owner)
    account = accounts.get_account(session=session, account_id=row.account_id)
    session.commit()
    return KeyCreated(**KeyOut.of(row, account).model_dump(), key=key)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(session: SessionDep, _: AdminDep) -> list[KeyOut]:
    """Every key (revoked ones too), with its account, scopes and last-used time."""
    names = {a.id: a for a, _ in accounts.list_accounts(session=session)}
    return [KeyOut.of(k, names[k.account_id]) for k in accounts.list_keys(session=session)]


@router.get("/keys/{key_id}", response_model=KeyOut)
def get_key(key_id: IdPath, session: SessionDep, _: AdminDep) -> KeyOut:
    """One key."""
    row = accounts.get_key(session=session, key_id=key_id)
    return KeyOut.of(row, accounts.get_account(session=session, account_id=row.account_id))


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors_doc(409))
def revoke_key(key_id: IdPath, session: SessionDep, _: AdminDep) -> Response:
    """Revoke a key (409 when it is the last working admin key)."""
    accounts.revoke_key(session=session, key_id=key_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(session: SessionDep, _: AdminDep) -> list[AccountOut]:
    """Every account with its number of working keys."""
    return [AccountOut.of(a, n) for a, n in accounts.list_accounts(session=session)]


@router.post(
    "/accounts", status_code=status.HTTP_201_CREATED, response_model=AccountOut, responses=errors_doc(409)
)
def create_account(body: AccountIn, session: SessionDep, _: AdminDep) -> AccountOut:
    """A new account (then give it keys with `owner`)."""
    account = accounts.create_account(session=session, name=body.name)
    session.commit()
    return AccountOut.of(account, 0)


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: IdPath, session: SessionDep, _: AdminDep) -> AccountOut:
    """One account."""
    account = accounts.get_account(session=session, account_id=account_id)
    active = sum(
        1 for k in accounts.list_keys(session=session, account_id=account_id) if k.revoked_at is None
    )
    return AccountOut.of(account, active)
