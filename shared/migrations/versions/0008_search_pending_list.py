"""search index: a GIN pending list of 256 kB instead of 4 MB, so no insert stalls to flush a large one
(hand-written; the index is named in shared.migrations.HAND_WRITTEN since 0003)

GIN's fast update appends new entries to a pending list that the insert crossing `gin_pending_list_limit`
(4 MB by default) merges into the index itself, inside its own transaction. With BBC articles that is about
every 1,100th article indexed: measured one article per transaction on this machine, that insert took 77 ms
against a median of 0.56 ms (a pipeline batch holding its articles meanwhile, longer on a busy machine).
With 256 kB the merge comes 16 times as often and costs about a sixteenth (at most 9 ms measured; 1,800
inserts 1.36 s against 1.16 s), and every search scans at most 256 kB of unmerged entries instead of up to
4 MB. `fastupdate = off` had no stall at all but cost 0.35 ms more per insert (1.79 s), which bulk imports
feel. (The latency benchmark's recurring backlog bump about 55 s into its offer is not this: it is the
longest BBC texts arriving there, see README "Scaling".)

SQLite (embedded mode) has no GIN index: nothing to do.

Revision ID: 0008_search_pending_list
Revises: 0007_mention_pairs_label
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_search_pending_list"
down_revision: str | None = "0007_mention_pairs_label"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_article_search_document SET (gin_pending_list_limit = 256)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_article_search_document RESET (gin_pending_list_limit)")
