"""Reading watch files: a YAML or JSON list of {name, query, ...} (the seeds/watchlists format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from shared.rules.errors import WatchFileError
from shared.rules.types import WatchSpec


def _entries(data: Any, path: Path) -> list[Any]:
    if isinstance(data, dict):
        if "watches" in data:
            data = data["watches"]
        elif "query" in data:
            data = [data]
    if not isinstance(data, list):
        raise WatchFileError(f"{path}: expected a list of watches with name and query")
    return data


def parse_watches(data: Any, *, source: str = "<data>") -> list[WatchSpec]:
    """Watches from already-loaded data: a list of mappings, {"watches": [...]}, or one mapping."""
    out: list[WatchSpec] = []
    for i, item in enumerate(_entries(data, Path(source))):
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            raise WatchFileError(f"{source}: watch #{i + 1} needs a string 'query'")
        name = item.get("name") or f"watch-{i + 1}"
        watch_id = item.get("id", name)
        if not isinstance(watch_id, int | str):  # `id:` left empty in YAML is None: a mistake, not an id
            raise WatchFileError(f"{source}: watch {name!r} has an id that is neither a number nor a text")
        version = item.get("version", 1)
        if not isinstance(version, int):
            raise WatchFileError(f"{source}: watch {name!r} has a non-integer version")
        out.append(WatchSpec(id=watch_id, name=str(name), query=item["query"], version=version))
    return out


def load_watch_file(path: Path) -> list[WatchSpec]:
    """Read watches from a YAML or JSON file (JSON is also valid YAML; .json is parsed strictly)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as e:
        raise WatchFileError(f"{path}: {e}") from e
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as e:
        raise WatchFileError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {e}") from e
    return parse_watches(data, source=str(path))
