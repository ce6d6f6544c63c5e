"""Every `# type: ignore` in shared/ and services/ names its error codes and says why, on the same line.

The type checker (mypy, `make test` and `make lint`) already refuses an ignore without a code
(ignore-without-code) and one that hides nothing (warn_unused_ignores); what it cannot see is the reason.
The form is `# type: ignore[code, ...]  # why`: a reader should not have to rerun the checker to learn
what is being silenced and why that is right.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ROOTS = ("shared", "services")
IGNORE = re.compile(r"type:\s*ignore")
WELL_FORMED = re.compile(r"#\s*type:\s*ignore\[[a-z][a-z-]*(?:,\s*[a-z][a-z-]*)*\]\s+#\s*\S.{4,}")


def _comments(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT]


def bad_ignores(root: Path = REPO) -> list[str]:
    """`path:line: comment` for each type-ignore comment without codes or without a reason."""
    found = []
    for package in ROOTS:
        for path in sorted((root / package).rglob("*.py*")):
            if path.suffix not in (".py", ".pyi") or "migrations/versions" in path.as_posix():
                continue
            for line, comment in _comments(path):
                if IGNORE.search(comment) and not WELL_FORMED.match(comment):
                    found.append(f"{path.relative_to(root)}:{line}: {comment}")
    return found


def test_every_type_ignore_names_its_codes_and_reason() -> None:
    assert bad_ignores() == []


@pytest.mark.parametrize(
    ("comment", "ok"),
    [
        ("# type: ignore[arg-type]  # never None: the WHERE names the ids", True),
        ("# type: ignore[attr-defined, no-any-return]  # set by SQLModel, not declared", True),
        ("# type: ignore", False),
        ("# type: ignore[arg-type]", False),
        ("# type: ignore[arg-type]  #", False),
        ("# type:ignore  # because", False),
    ],
)
def test_the_form_it_asks_for(tmp_path: Path, comment: str, ok: bool) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "m.py").write_text(f"x: int = 'a'  {comment}\ns = '# type: ignore in a string'\n")
    assert (bad_ignores(tmp_path) == []) is ok
