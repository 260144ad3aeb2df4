"""The documentation site: its reference cannot leave out what the code declares, every page is
reachable, ``llms.txt`` covers the site, and the README stays a first visit's length.

(The site's examples run in a real kernel when ``scripts/test.sh`` builds it with ``-W``.)
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

from llmring_jupyter.answer import options
from llmring_jupyter.notebook import commands
from llmring_jupyter.notebook.magics import LLMMagics

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import reference  # noqa: E402  (the site's own extension, imported from docs/_ext)


def _cells(table: type[reference._Reference]) -> str:
    return "\n".join(" | ".join(row) for row in table.rows())


def test_the_options_reference_holds_every_flag_the_parser_takes() -> None:
    parser = options._parser()
    flags = {s for action in parser._actions for s in action.option_strings if s not in ("-h", "--help")}
    text = _cells(reference.Options)
    assert flags, "the parser declares no option"
    assert [f for f in sorted(flags) if not re.search(rf"(^|[ |]){re.escape(f)}( |$|\|)", text, re.M)] == []


def test_the_commands_reference_holds_every_command_the_magic_runs() -> None:
    text = _cells(reference.Commands)
    aliases = {"-h", "--help", "aliases"}
    missing = [name for name in commands._COMMANDS if name not in aliases and f"%llm {name}" not in text]
    assert missing == []


def test_the_settings_reference_holds_every_configurable_trait() -> None:
    text = _cells(reference.Settings)
    traits = LLMMagics.class_traits(config=True)
    assert [name for name in traits if f"LLMMagics.{name} " not in text + " "] == []
    for name, trait in traits.items():
        assert trait.help, f"LLMMagics.{name} has no help: the reference would say nothing about it"


def _public_error_classes() -> set[str]:
    """Every error class a user can meet, wherever in the package it is defined."""
    import llmring_jupyter

    found = set()
    for module in pkgutil.walk_packages(llmring_jupyter.__path__, "llmring_jupyter."):
        for name, value in vars(importlib.import_module(module.name)).items():
            public = not name.startswith("_") and getattr(value, "__module__", "").startswith("llmring_jupyter")
            if public and isinstance(value, type) and issubclass(value, llmring_jupyter.LLMError):
                found.add(value.__name__)
    return found


def test_the_errors_reference_holds_every_error_class_with_what_to_do() -> None:
    rows = reference.Errors.rows()
    assert _public_error_classes() - {row[0] for row in rows} == set()
    assert [row[0] for row in rows if not row[2]] == [], "an error class without a docstring says nothing"


def test_every_page_is_built_and_reachable_from_the_index(docs_site: Path) -> None:
    sources = {p.relative_to(ROOT / "docs").with_suffix("") for p in (ROOT / "docs").rglob("*.md")}
    sources = {s for s in sources if s.parts[0] not in ("_build", "_ext", "images") and s.name != "README"}
    built = {p.relative_to(docs_site).with_suffix("") for p in docs_site.rglob("*.html")}
    assert sources - built == set()
    index = (docs_site / "index.html").read_text()
    assert [str(s) for s in sorted(sources) if str(s) != "index" and f'href="{s}.html"' not in index] == []


def test_llms_txt_lists_every_page_and_the_full_text_holds_the_reference(docs_site: Path) -> None:
    index = (docs_site / "llms.txt").read_text()
    full = (docs_site / "llms-full.txt").read_text()
    assert index.startswith("# llmring_jupyter\n\n> ")
    pages = [p for p in docs_site.rglob("*.html") if p.parent.name not in ("_static", "_sources")]
    pages = [p for p in pages if p.name not in ("genindex.html", "search.html")]
    listed = set(re.findall(r"\]\(https?://[^)]+?/llmring-jupyter/([^)]+)\.html\)", index))
    assert {str(p.relative_to(docs_site).with_suffix("")) for p in pages} <= listed
    # The reference tables are written out, not left as directives a reader of plain text cannot see.
    assert "{llm-options}" not in full and "| --max-tokens N |" in full and "| %llm usage |" in full


def test_the_readme_is_a_first_visit_and_links_into_the_site() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)", readme))
    assert {"docs/guides/tools.md", "docs/reference/options.md", "docs/explanation/how-it-works.md"} <= linked
