"""The committed view bundle is what js/view.js builds to."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).parent.parent / "js"
BUNDLE = JS.parent / "llmring_jupyter" / "static" / "view.js"


@pytest.mark.skipif(not (JS / "node_modules" / ".bin" / "esbuild").exists() or not shutil.which("node"),
                    reason="needs `cd js && npm ci` (scripts/test.sh runs it)")
def test_committed_bundle_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "view.js"
    subprocess.run([str(JS / "node_modules" / ".bin" / "esbuild"), "view.js", "--bundle", "--format=esm",
                    "--minify", "--legal-comments=eof", f"--outfile={out}"], cwd=JS, check=True,
                   capture_output=True)
    assert out.read_bytes() == BUNDLE.read_bytes(), "run `cd js && npm run build` and commit the bundle"
