"""feed id sets (PostgreSQL): a search's feed filter reads the feed's article ids from indexes alone
(hand-written; named in shared.migrations.HAND_WRITTEN)

A feed filter is the set of articles seen in the feed (article_sources) or stored from it
(article_search.feed_id), see shared.search.store.base_query. Through the feed_id-only indexes each id cost
a heap visit: 1,694 ids of feed 1 at 100,000 articles read 1,433 pages of article_search (its rows carry
the tsvector) and 592 of article_sources, for the page and again for the facets.

- `ix_article_search_feed_article` (feed_id, article_id)
- `ix_article_sources_feed_article` (feed_id, article_id)

SQLite (embedded mode) does without: article_search.article_id is its rowid there, in every index.

Revision ID: 0006_feed_ids
Revises: 0005_mention_pairs
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_feed_ids"
down_revision: str | None = "0005_mention_pairs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_article_search_feed_article ON article_search (feed_id, article_id)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_article_sources_feed_article ON article_sources (feed_id, article_id)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_article_sources_feed_article")
    op.execute("DROP INDEX IF EXISTS ix_article_search_feed_article")
