#!/usr/bin/env bash
# Build the documentation site (every example executed on the offline demo model, warnings as
# errors) into docs/_build/html, then serve it on http://127.0.0.1:8000 (--no-serve: build only).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet -e ".[docs]"
.venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
echo "Built docs/_build/html (llms.txt and llms-full.txt beside index.html)."
if [ "${1:-}" != "--no-serve" ]; then
  exec .venv/bin/python -m http.server --bind 127.0.0.1 --directory docs/_build/html 8000
fi
