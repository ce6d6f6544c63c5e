"""Rewrite the initial revision from the models (used while nothing is released).

Run `python -m shared.migrations.regenerate` after changing a model; a test checks the models and the
history agree, so a forgotten regeneration fails CI.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from alembic import command

from shared.migrations import HERE, alembic_config


def main() -> int:
    """Delete versions/0001_*.py and autogenerate it again against an empty SQLite database.

    Hand-written later revisions (data, triggers) are set aside meanwhile: they build on 0001.
    """
    versions = HERE / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        aside = Path(tmp) / "aside"
        aside.mkdir()
        later = [p for p in versions.glob("*.py") if not p.name.startswith("0001_")]
        for p in later:
            shutil.move(p, aside / p.name)
        try:
            url = f"sqlite:///{Path(tmp) / 'empty.db'}"
            command.revision(alembic_config(url), message="initial", autogenerate=True, rev_id="0001")
        finally:
            for p in later:
                shutil.move(aside / p.name, p)
    for new in versions.glob("0001_*.py"):
        # a stable file body: no creation date, so regenerating an unchanged schema changes nothing
        lines = [ln for ln in new.read_text().splitlines() if not ln.startswith("Create Date:")]
        new.write_text("\n".join(lines) + "\n")
        print(f"wrote {new}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
