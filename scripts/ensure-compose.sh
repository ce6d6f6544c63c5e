#!/usr/bin/env bash
# The compose test validates docker-compose.yml with a real compose tool (`config`, no Docker engine needed).
# Install Debian's docker-compose when no compose tool is present and we can (root with apt-get); otherwise
# say so: the test then skips with the same reason.
set -u
if command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's docker-compose for the compose test" >&2
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/tmp/ensure-compose.log 2>&1; then
    exit 0
  fi
  echo "warning: apt-get install docker-compose failed (see /tmp/ensure-compose.log); the compose test will skip" >&2
else
  echo "warning: no compose tool and none can be installed here; the compose test will skip" >&2
fi
exit 0
