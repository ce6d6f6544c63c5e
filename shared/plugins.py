"""Plugins: the modules named in NEWSWATCH_PLUGINS, imported by every process when it starts.

A plugin registers what it brings through the registries of the domain packages, e.g.
`shared.pipeline.service.register_extractor("mine", factory)` (then NEWSWATCH_ENTITY_EXTRACTOR=mine), or a
channel with `shared.alerts.channels.registry.register(...)`. Tests use this to put a failing extractor
into a real worker instead of patching it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable


def load_plugins(names: Iterable[str]) -> list[str]:
    """Import each named module (once; Python caches it); returns the names loaded."""
    loaded = []
    for name in names:
        importlib.import_module(name)
        loaded.append(name)
    return loaded
