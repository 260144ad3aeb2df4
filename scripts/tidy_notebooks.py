"""Keep the committed example notebooks clean: the .ipynb files are the source.

    .venv/bin/python scripts/tidy_notebooks.py            # tidy every notebook in place
    .venv/bin/python scripts/tidy_notebooks.py --check    # exit 1 if any notebook is not tidy
    .venv/bin/python scripts/tidy_notebooks.py --execute  # also re-run the quickstart for its outputs

Edit the notebooks in JupyterLab, then run this. Tidy means: outputs and execution counts
cleared (except in the quickstart, which keeps its outputs so GitHub shows the answers), no
widget state or execution timestamps, and every cell with a unique id. Ids are never
renumbered: a cell inserted anywhere gets a new random id and the others keep theirs, so a
diff shows only what changed.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KEEPS_OUTPUTS = {"quickstart"}


def tidy(nb: nbformat.NotebookNode, *, keep_outputs: bool) -> nbformat.NotebookNode:
    """The notebook as it should be committed (a new object; ``nb`` is left alone)."""
    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)
    seen: set[str] = set()
    for cell in nb.cells:
        if not cell.get("id") or cell.id in seen:
            cell.id = uuid.uuid4().hex[:8]
        seen.add(cell.id)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and not keep_outputs:
            cell.outputs = []
            cell.execution_count = None
    return nb


def execute(nb: nbformat.NotebookNode) -> None:
    """Run a notebook on the demo model in a scratch folder (its files stay out of the repo)."""
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as folder:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", store_widget_state=False, resources={"metadata": {"path": folder}}
        ).execute()


def untidy() -> list[Path]:
    """The notebooks that are not committed as :func:`tidy` leaves them."""
    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if tidy(nb, keep_outputs=path.stem in KEEPS_OUTPUTS) != nb:
            out.append(path)
    return out


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = untidy()
        for path in bad:
            print(f"{path.name} is not tidy: run scripts/tidy_notebooks.py")
        return 1 if bad else 0
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if path.stem in KEEPS_OUTPUTS and "--execute" in argv:
            execute(nb)
        tidied = tidy(nb, keep_outputs=path.stem in KEEPS_OUTPUTS)
        nbformat.validate(tidied)
        nbformat.write(tidied, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
