"""dashboard indexes (PostgreSQL): one entity's (or watch's) articles, and their facet columns, read from
indexes alone (hand-written; named in shared.migrations.HAND_WRITTEN)

- `ix_mentions_entity_article` (entity_id, article_id): an entity's article ids in order, so the distinct
  ones come from a Unique over an index-only range scan (41,340 mentions → 7,446 articles for the largest
  entity of the 100,000-article bench) instead of hashing every mention.
- `ix_article_search_article_facets` (article_id) INCLUDE (dated_at, language): a search's facets look those
  ids up index-only, instead of a hash semi-join over a sequential scan of article_search (whose rows carry
  the tsvector): 75-155 ms → 2-21 ms for the bench's entities (shared.search.store.facets).

SQLite (embedded mode) does without: article_search.article_id is its rowid there.

Revision ID: 0004_dashboard_indexes
Revises: 0003_search
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_dashboard_indexes"
down_revision: str | None = "0003_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_mentions_entity_article ON mentions (entity_id, article_id)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_article_search_article_facets "
        "ON article_search (article_id) INCLUDE (dated_at, language)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_article_search_article_facets")
    op.execute("DROP INDEX IF EXISTS ix_mentions_entity_article")
