#!/usr/bin/env bash
# One command to set up: a virtualenv with policy-rag and its test tools.
# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0
pip install -q -e ".[test]"
# Debian chromium for the browser test (Playwright's own browser download does not work offline).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) || echo "未能安装 chromium：浏览器测试将被跳过"
fi
echo "安装完成：source .venv/bin/activate"
