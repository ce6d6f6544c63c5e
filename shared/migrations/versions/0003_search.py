"""full-text search: what autogenerate cannot express (hand-written; keep it beside the regenerated 0001)

PostgreSQL: `article_search.document tsvector` (built per article in its language's text-search
configuration, see shared.search.index) with a GIN index.
SQLite: the FTS5 table `article_fts` (rowid = article id; columns cfg, title, text of stemmed words).

Revision ID: 0003_search
Revises: 0002_system_account
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_search"
down_revision: str | None = "0002_system_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE article_search ADD COLUMN document tsvector NOT NULL DEFAULT ''::tsvector")
        op.execute("CREATE INDEX ix_article_search_document ON article_search USING gin (document)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE article_fts USING fts5("
            "cfg, title, text, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_article_search_document")
        op.execute("ALTER TABLE article_search DROP COLUMN IF EXISTS document")
    else:
        op.execute("DROP TABLE IF EXISTS article_fts")
