"""the system account (id 1): owner of seeds and of rows created without an owner

Revision ID: 0002_system_account
Revises: 0001
Hand-written (autogenerate does not write data); `make migration` keeps it beside the regenerated 0001.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_system_account"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

accounts = sa.table(
    "accounts", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("created_at", sa.DateTime)
)


def upgrade() -> None:
    op.bulk_insert(accounts, [{"id": 1, "name": "admin", "created_at": datetime.now(UTC)}])
    if op.get_bind().dialect.name == "postgresql":
        # the row was written with an explicit id: move the sequence past it
        op.execute("SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts))")


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE id = 1")
