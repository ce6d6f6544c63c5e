"""The README tells the truth: its command table names every flag of every command (and no flag that does
not exist), and its example webhook body has exactly the fields the payload builder writes."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services import backtest_cli, importer
from services.cli import DELEGATED, build_parser
from shared.alerts import payload
from shared.nlp import wikidata

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
# bench NAME: each benchmark is a developer tool with its own sizing flags (`newswatch bench NAME --help`)
NOT_IN_TABLE = {"bench"}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    out = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        out.update(o for o in action.option_strings if o.startswith("-"))
    return out


def _commands() -> dict[str, set[str]]:
    """{"keys create": {"--scopes", ...}, "run": {...}, ...} from the real parsers."""
    out: dict[str, set[str]] = {}
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in subs.choices.items():
        if name in DELEGATED:
            continue
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for action_name, sub in nested[0].choices.items():
                out[f"{name} {action_name}"] = _flags(sub)
        else:
            out[name] = _flags(parser)
    out["import"] = _flags(importer.build_parser())
    out["backtest"] = _flags(backtest_cli.build_parser())
    out["kb import-wikidata"] = _flags(wikidata.build_parser())
    return out


def _table() -> dict[str, set[str]]:
    """{"run": {"--host", ...}} from the first cell of each row of the README's command table."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for line in section.splitlines():
        m = re.match(r"\| `newswatch ([a-z-]+(?: [a-z][a-z-]*)?)(.*?)` \|", line)
        if not m:
            continue
        words = m.group(1).split()
        name = " ".join(words[:2]) if words[0] in ("keys", "kb") else words[0]
        out[name] = set(re.findall(r"(?<![\w-])(--?[A-Za-z][a-z-]*)", m.group(2)))
    return out


def test_the_command_table_lists_every_flag_of_every_command() -> None:
    real, table = _commands(), _table()
    assert set(real) - NOT_IN_TABLE == set(table) - NOT_IN_TABLE
    for command, flags in real.items():
        if command in NOT_IN_TABLE:
            continue
        documented = table[command]
        # a flag with a short form (-Q/--queues) may be written either way; both must exist
        missing = {f for f in flags if f not in documented and not _alias_documented(f, flags, documented)}
        assert not missing, f"newswatch {command}: {sorted(missing)} not in the README's command table"
        assert documented <= flags, f"newswatch {command}: README names {sorted(documented - flags)}"


def _alias_documented(flag: str, flags: set[str], documented: set[str]) -> bool:
    parser_aliases = {"--queues": "-Q", "-Q": "--queues", "--concurrency": "-c", "-c": "--concurrency"}
    return parser_aliases.get(flag) in documented and parser_aliases[flag] in flags


def _shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def test_the_example_webhook_body_has_the_builders_fields() -> None:
    section = README.split("## Webhooks", 1)[1]
    example = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    article = payload.ArticleRef(id=7, url="u", title="t", published=datetime.now(UTC))
    facts = payload.AlertFacts(
        alert_id=1,
        watch=payload.WatchRef(1, "SCO", 1),
        article=article,
        terms=[payload.MatchedTerm("SCO", "title", 0, 3, "SCO")],
        entities=[payload.EntityRef("Putin", "PERSON", "Vladimir Putin", "Q7747")],
        sources=[article],
        matched_at=datetime.now(UTC),
    )
    built = json.loads(payload.render(payload.ALERT_CREATED, payload.alert_data(facts)))
    assert _shape(example) == _shape(built)
    assert example["type"] == payload.ALERT_CREATED
