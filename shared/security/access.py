"""Who is calling and what it may do: key scopes and resource ownership.

Scopes are ordered: `read` (GET only), `write` (read, plus create and change what the key's account owns),
`admin` (everything: keys, accounts, and every account's resources). Watches, feeds, subscriptions, and
the alerts and deliveries that hang off them belong to an account; articles and entities are a shared
corpus. Another account's resource looks exactly like a missing one (404), so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.errors import ForbiddenScope, InvalidInput

READ, WRITE, ADMIN = "read", "write", "admin"
SCOPES = (READ, WRITE, ADMIN)  # in order: each includes the ones before it
_RANK = {s: i for i, s in enumerate(SCOPES)}


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes deduplicated in their order; InvalidInput on an unknown or missing one."""
    given = set(scopes)
    unknown = sorted(given - set(SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scopes {unknown}; known: {list(SCOPES)}")
    if not given:
        raise InvalidInput("a key needs at least one scope")
    return [s for s in SCOPES if s in given]


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Do these scopes include `needed` (admin includes write, write includes read)?"""
    ranks = [_RANK[s] for s in scopes if s in _RANK]
    return bool(ranks) and max(ranks) >= _RANK[needed]


@dataclass(frozen=True)
class Caller:
    """An authenticated API key: its id, its account and its scopes."""

    key_id: int
    account_id: int
    scopes: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return grants(self.scopes, ADMIN)

    def require(self, scope: str) -> None:
        """Raise ForbiddenScope unless the key has `scope`."""
        if not grants(self.scopes, scope):
            raise ForbiddenScope(f"this key needs the {scope!r} scope (it has {', '.join(self.scopes)})")

    @property
    def owner_filter(self) -> int | None:
        """The account whose resources this caller sees; None (every account) for an admin key."""
        return None if self.is_admin else self.account_id

    def sees(self, owner_id: int | None) -> bool:
        """May this caller see a resource of that account?"""
        return self.is_admin or owner_id == self.account_id
