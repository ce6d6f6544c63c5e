"""mention pairs carry their label: a top-entities type filter counts that type's pairs from the index
alone (hand-written; ix_mentions_pairs is named in shared.migrations.HAND_WRITTEN)

`ix_mentions_pairs` becomes (published_at, entity_id, article_mentions) INCLUDE (label) WHERE
article_mentions IS NOT NULL (SQLite has no INCLUDE: label is a fourth key column there). A type filter
(`/entities?type=PERSON`) aggregated every pair of the window and then joined the 23,533 entities of a
week at 100,000 articles to `entities` (a sequential scan) to keep one label: 34 ms; counting only that
type's pairs (a mention's label is always its entity's) is 13 ms.

Revision ID: 0007_mention_pairs_label
Revises: 0006_feed_ids
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_mention_pairs_label"
down_revision: str | None = "0006_feed_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_mentions_pairs")
    if op.get_bind().dialect.name == "postgresql":
        columns = "(published_at, entity_id, article_mentions) INCLUDE (label)"
    else:
        columns = "(published_at, entity_id, article_mentions, label)"
    op.execute(f"CREATE INDEX ix_mentions_pairs ON mentions {columns} WHERE article_mentions IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_mentions_pairs")
    op.execute(
        "CREATE INDEX ix_mentions_pairs ON mentions (published_at, entity_id, article_mentions) "
        "WHERE article_mentions IS NOT NULL"
    )
