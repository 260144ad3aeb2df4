"""Sphinx configuration: the documentation site, built with MyST-NB so every ``%%llm`` example runs.

Pages are MyST markdown; those with code cells are executed at build time in a real kernel on the
offline ``demo`` model, and what the page shows is that run's output. The reference pages are
generated from the declarations the code itself uses (``_ext/reference.py``), so they cannot drift.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))

project = "llmring_jupyter"
author = "The llmring_jupyter developers"
copyright = "The llmring_jupyter developers"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx_copybutton",
    "reference",
    "llms_txt",
]

exclude_patterns = ["_build", "_ext", "images", "**.ipynb_checkpoints", "jupyter_execute"]
html_theme = "furo"
html_title = "llmring_jupyter"
html_static_path: list[str] = []
templates_path: list[str] = []

# MyST: the same markdown a notebook's cells hold, plus the extensions the pages use.
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# Every page with code runs, each time the site is built: an example that raises fails the build
# (-W turns the execution error into an error), and the output shown is the real one.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_in_temp = True  # the examples' logs and caches go to a temporary folder, not into docs/
nb_merge_streams = True
# The demo model's answers arrive at a tenth of its default pace: the same answers, a quicker build.
os.environ.setdefault("LLMRING_DEMO_DELAY", "0.002")
# No widget manager from a CDN: a finished answer is static HTML and needs no script.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
html_baseurl = "https://llmring.github.io/llmring-jupyter/"
llms_txt_summary = (
    "A Jupyter/IPython extension: %%llm cells stream an LLM's answer (OpenAI, Anthropic, Gemini, Ollama, or the "
    "offline demo model) into a live view with a Stop button, then leave a static, safe answer in the notebook."
)


# The example notebooks are pages of the site, executed like the others. Their source is ../notebooks/
# (what Binder and GitHub open); they are copied in at each build, their one link outside the folder,
# to the README, pointed at the site's index instead, and their cells marked as IPython (which the
# kernel says when it runs them; the committed files, kept free of run metadata, do not).
NOTEBOOKS = HERE.parent / "notebooks"


def _copy_notebooks(app: object) -> None:
    target = HERE / "notebooks"
    target.mkdir(exist_ok=True)
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = json.loads(source.read_text(encoding="utf-8").replace("](../README.md)", "](../index.md)"))
        notebook["metadata"].setdefault("language_info", {}).setdefault("pygments_lexer", "ipython3")
        text = json.dumps(notebook, indent=1, ensure_ascii=False)
        copy = target / source.name
        if not copy.exists() or copy.read_text(encoding="utf-8") != text:
            copy.write_text(text, encoding="utf-8")


def setup(app: object) -> None:
    app.connect("builder-inited", _copy_notebooks)  # type: ignore[attr-defined]
