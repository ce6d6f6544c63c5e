"""`newswatch` dispatches to one module per command: every name in its table resolves, and parsing the
command line loads none of them (so `--help` and a mistyped flag answer at once)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from services.cli import DELEGATED, Handler, build_parser


def _handlers() -> dict[str, Handler]:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, parser in subparsers.choices.items():
        func = parser.get_default("func")
        if func is not None:
            out[name] = func
    return out


def test_every_command_names_a_function_that_exists() -> None:
    handlers = _handlers()
    assert {"run", "api", "worker", "beat", "migrate", "seed", "analyze", "keys"} <= set(handlers)
    for name, handler in handlers.items():
        assert isinstance(handler, Handler), name
        module, _, function = handler.target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), handler.target
    for module in filter(None, DELEGATED.values()):
        assert callable(importlib.import_module(module).main), module


def test_parsing_the_command_line_imports_no_command_module() -> None:
    code = (
        "import sys; from services.cli import build_parser; "
        "build_parser().parse_args(['keys', 'create', 'x']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('shared', 'services')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['services', 'services.cli', 'shared', 'shared.errors']"
