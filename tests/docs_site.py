"""The documentation site built for tests: the real Sphinx build, examples not executed.

``scripts/test.sh`` builds the site with every example executed (``-W``); tests that check its shape
(the reference, ``llms.txt``, links, the theme in a browser) build it here once per session without
running the examples, in a tenth of the time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def build(out: Path) -> Path:
    """Build the site into ``out`` with warnings as errors; its HTML folder."""
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    command += ["-D", "nb_execution_mode=off", "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "html"
