"""`newswatch healthcheck`: a container health check for workers (the API has /readyz).

Exit 0 when this host's workers (heartbeat files named `<name>@<this hostname>` under the data dir) have
all beaten within NEWSWATCH_WORKER_HEARTBEAT_TIMEOUT_SECONDS, 1 otherwise (none yet, or one stale).
"""

from __future__ import annotations

import argparse
import platform
import sys

from shared.config import fresh_settings
from shared.heartbeats import heartbeat_dir, states


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Check the heartbeats of this host's workers."""
    settings = fresh_settings()
    host = args.host or platform.node()
    folder = heartbeat_dir(settings.data_dir)
    names = tuple(p.stem for p in folder.glob(f"*@{host}.json")) if folder.is_dir() else ()
    if not names:
        print(f"no worker heartbeat for host {host} in {folder}", file=sys.stderr)
        return 1
    found = states(settings.data_dir, names, max_age=settings.worker_heartbeat_timeout_seconds)
    stale = [n for n, s in found.items() if not s.ok]
    for name, state in sorted(found.items()):
        print(f"{name}: {state.to_dict()}", file=sys.stderr)
    return 1 if stale else 0
