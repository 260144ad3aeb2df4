"""``llms.txt`` for the built site: the index an LLM reads first, and ``llms-full.txt`` with every page.

Written from the pages' own MyST sources in the order of the table of contents, so what an LLM helping
a user reads is exactly what the site says (the generated reference included, as the built text).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reference import markdown
from sphinx.application import Sphinx

#: A reference directive in a page's source: ```{llm-options}``` … ```
_DIRECTIVE = re.compile(r"^```\{(llm-[a-z]+)\}\s*\n```\s*$", re.M)


def _write(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    env = app.env
    order = [app.config.root_doc]  # the table of contents, breadth first
    for doc in order:
        order += [d for d in env.toctree_includes.get(doc, []) if d not in order]
    out = Path(app.outdir)
    base = app.config.html_baseurl.rstrip("/")
    lines = [f"# {app.config.project}", "", f"> {app.config.llms_txt_summary}", ""]
    full: list[str] = []
    for doc in order:
        title = env.titles[doc].astext() if doc in env.titles else doc
        lines.append(f"- [{title}]({base}/{doc}.html)")
        text_file = out / "_sources" / f"{doc}{env.doc2path(doc).suffix}.txt"
        if text_file.exists():
            text = _DIRECTIVE.sub(lambda m: markdown(m.group(1)), text_file.read_text(encoding="utf-8"))
            full += [f"\n\n<!-- {doc} -->\n", text]
    (out / "llms.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "llms-full.txt").write_text("".join(full).lstrip() + "\n", encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("llms_txt_summary", "", "html")
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
