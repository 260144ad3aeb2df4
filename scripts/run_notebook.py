"""Execute a notebook in a real kernel and print what each %%llm cell answered.

Used by the quickstart: it shows, without a browser, that the notebook runs
top to bottom and what its answers and footers say.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(path: str) -> int:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}}
    ).execute()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        print(f"\n>>> {cell.source}")
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            if text:
                print(text.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
