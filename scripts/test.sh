#!/usr/bin/env bash
# Install everything the tests need into .venv (and Debian's chromium for the
# browser tests), check lint (ruff) and types (mypy), then run the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
if command -v npm >/dev/null 2>&1; then
  (cd js && npm ci --no-audit --no-fund --loglevel=error)  # the bundle check rebuilds the view
fi
# Lint and types first: a minute of pytest is wasted on code that does not pass them.
.venv/bin/ruff check llmring_jupyter tests bench scripts docs
.venv/bin/ruff format --check --quiet llmring_jupyter tests bench scripts docs
.venv/bin/mypy
# The documentation site: every example executed on the demo model, warnings (a broken reference, an
# example that raises, a page out of the table of contents) as errors.
.venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
# Two workers (CI has two cores), each taking whole test files (tests/conftest.py): most tests wait on
# kernels, servers and streams rather than compute. `-n 0` in the arguments runs it in one process.
exec .venv/bin/python -m pytest -n 2 "$@"
