"""mention pairs: one row per (article, entity) carries the entity's mention count in the article, under a
partial index, so top entities count articles per entity from one index range (hand-written; named in
shared.migrations.HAND_WRITTEN)

- `mentions.article_mentions`: on the first mention (lowest id) of each entity in each article, how many
  mentions of that entity the article has; NULL on the others. Written with the mentions
  (shared.nlp.store.mark_pairs).
- `ix_mentions_pairs` (published_at, entity_id, article_mentions) WHERE article_mentions IS NOT NULL: a
  window's (entity, article) pairs and their mention counts, index-only. Top entities summed them from every
  mention with a hash of (entity, article) first: a week at 100,000 articles is 182,250 mentions but 76,445
  pairs, and one aggregation instead of two.

Revision ID: 0005_mention_pairs
Revises: 0004_dashboard_indexes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_mention_pairs"
down_revision: str | None = "0004_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the same statement as shared.nlp.store.mark_pairs, over every article (a migration keeps its own copy)
_MARK_ALL = """
UPDATE mentions SET article_mentions = (
    SELECT count(*) FROM mentions AS m
    WHERE m.article_id = mentions.article_id AND m.entity_id = mentions.entity_id
)
WHERE mentions.id IN (SELECT min(id) FROM mentions GROUP BY article_id, entity_id)
"""


def upgrade() -> None:
    op.execute("ALTER TABLE mentions ADD COLUMN article_mentions INTEGER")
    op.execute(_MARK_ALL)
    op.execute(
        "CREATE INDEX ix_mentions_pairs ON mentions (published_at, entity_id, article_mentions) "
        "WHERE article_mentions IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_mentions_pairs")
    op.execute("ALTER TABLE mentions DROP COLUMN article_mentions")
