#!/usr/bin/env bash
# Install llmring_jupyter with JupyterLab and what the example notebooks use
# into .venv, and run the quickstart notebook on the offline demo model (no key,
# no network). With --lab, open it in JupyterLab afterwards to watch it stream.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[notebooks]"
.venv/bin/python scripts/run_notebook.py notebooks/quickstart.ipynb
if [ "${1:-}" = "--lab" ]; then
  exec .venv/bin/jupyter lab notebooks/quickstart.ipynb
fi
echo
echo "To watch it stream: .venv/bin/jupyter lab notebooks/quickstart.ipynb"
