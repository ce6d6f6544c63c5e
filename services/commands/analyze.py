"""`newswatch analyze`: one article in, the DESIGN.md JSON (language, entities, matches) out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.analyze import AnalyzeError, analyze_input
from shared.config import fresh_settings


def cmd_analyze(args: argparse.Namespace) -> int:
    """Analyze a file or standard input; exit 2 with one line on a bad input or watch file (a missing or
    unreadable file reaches the command line's one-line error, services/cli.py)."""
    try:
        raw = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        print(f"newswatch analyze: {args.file or 'standard input'} is not UTF-8 text", file=sys.stderr)
        return 2
    try:
        out = analyze_input(
            raw, watches_file=Path(args.watches) if args.watches else None, settings=fresh_settings()
        )
    except AnalyzeError as exc:
        print(f"newswatch analyze: {exc}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
