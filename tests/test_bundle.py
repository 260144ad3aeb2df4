"""The committed view bundles are what js/ builds to (the build command of js/package.json)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).parent.parent / "js"
STATIC = JS.parent / "llmring_jupyter" / "static"


@pytest.mark.skipif(
    not (JS / "node_modules" / ".bin" / "esbuild").exists() or not shutil.which("node"),
    reason="needs `cd js && npm ci` (scripts/test.sh runs it)",
)
def test_committed_bundles_are_up_to_date(tmp_path: Path) -> None:
    command = shlex.split(json.loads((JS / "package.json").read_text())["scripts"]["build"])
    assert command[0] == "esbuild" and command[-1].startswith("--outdir=")
    command = [str(JS / "node_modules" / ".bin" / "esbuild"), *command[1:-1], f"--outdir={tmp_path}"]
    subprocess.run(command, cwd=JS, check=True, capture_output=True)
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == ["loader.js", "view.js"]
    for name in built:
        assert (tmp_path / name).read_bytes() == (STATIC / name).read_bytes(), (
            f"{name} is stale: run `cd js && npm run build` and commit llmring_jupyter/static/"
        )
