#!/usr/bin/env bash
# The browser test drives Debian's chromium over CDP. Install it when it is missing and we can (root with
# apt-get); otherwise say so: the test then skips with the same reason. Never downloads a browser build.
set -u
# Chinese sources are a first-class case: without a CJK font the screenshots show boxes for every Han
# character, and a person checking them cannot read them. WenQuanYi Zen Hei is Debian's smallest.
if [ "$(id -u)" = "0" ] && command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei) \
    >/tmp/ensure-cjk-font.log 2>&1 || echo "warning: no CJK font (see /tmp/ensure-cjk-font.log)" >&2
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test" >&2
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/ensure-chromium.log 2>&1; then
    exit 0
  fi
  echo "warning: apt-get install chromium failed (see /tmp/ensure-chromium.log); the browser test will skip" >&2
else
  echo "warning: chromium is not installed and cannot be installed here; the browser test will skip" >&2
fi
exit 0
