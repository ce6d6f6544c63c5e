"""Full-text search over stored articles: one query syntax, PostgreSQL tsvector or SQLite FTS5 underneath."""
