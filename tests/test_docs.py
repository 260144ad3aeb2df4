"""The documentation holds: links resolve, Binder installs this package and opens the quickstart,
the package's layout is the one the site draws, and the notebooks match their generator.

(The documentation site's reference, pages and llms.txt are tests/test_docs_site.py.)

(That every notebook runs is tests/kernel/test_notebooks.py.)
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import tomllib
import urllib.parse
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HOW_IT_WORKS = ROOT / "docs" / "explanation" / "how-it-works.md"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE = PYPROJECT["project"]["name"]
REPO_URL = PYPROJECT["project"]["urls"]["Source"]
BINDER = ROOT / "binder"


def _documents() -> list[Path]:
    site = [p for p in sorted((ROOT / "docs").rglob("*.md")) if "_build" not in p.parts]
    docs = [README, ROOT / "bench" / "README.md", BINDER / "README.md", *site]
    return [p for p in docs if p.is_file()]


def _without_code(text: str) -> str:
    """Markdown with fenced code blocks and inline code removed: links there are not links."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _links(text: str) -> list[str]:
    text = _without_code(text)
    found = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    found += re.findall(r"<(?:img|a)\b[^>]*?(?:src|href)=\"([^\"]+)\"", text)
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _without_code(text), flags=re.M)}


def _check_links(text: str, base: Path, where: str) -> list[str]:
    broken = []
    for link in _links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link, flags=re.I):  # https:, mailto:
            continue
        path, _, anchor = urllib.parse.unquote(link).partition("#")
        if not path:
            if anchor not in _anchors(text):
                broken.append(f"{where}: #{anchor} names no heading")
            continue
        target = (base / path).resolve()
        if not target.exists():
            broken.append(f"{where}: {link} → {target} does not exist")
        elif ROOT not in target.parents and target != ROOT:
            broken.append(f"{where}: {link} points outside the repository")
    return broken


@pytest.mark.parametrize("doc", _documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_in_the_docs_resolves(doc: Path) -> None:
    assert _check_links(doc.read_text(encoding="utf-8"), doc.parent, str(doc.relative_to(ROOT))) == []


def test_every_relative_link_in_the_notebooks_resolves() -> None:
    broken = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                broken += _check_links(cell.source, path.parent, path.name)
    assert broken == []


# Binder ----------------------------------------------------------------------------------------


def _binder_lines() -> list[str]:
    lines = []
    for raw in (BINDER / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _local(line: str) -> re.Match[str] | None:
    return re.fullmatch(r"(?:-e\s+|--editable[=\s]+)?\.(?:\[([\w,\s-]+)\])?", line)


def _extra_names(extras: set[str]) -> set[str]:
    """The package's own dependencies plus those of ``extras``, self-references expanded."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    names: set[str] = set()
    seen: set[str] = set()
    todo = [*PYPROJECT["project"]["dependencies"]]
    todo += [d for e in extras for d in optional[e]]
    while todo:
        req = Requirement(todo.pop())
        if canonicalize_name(req.name) == canonicalize_name(PACKAGE):
            for extra in req.extras - seen:
                seen.add(extra)
                todo += optional[extra]
            continue
        names.add(canonicalize_name(req.name))
    return names


def _notebook_imports() -> set[str]:
    modules = set()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                modules |= set(re.findall(r"^\s*(?:import|from)\s+(\w+)", cell.source, flags=re.M))
    return {canonicalize_name(m) for m in modules}


def test_binder_installs_this_repository_package_with_lab() -> None:
    lines = _binder_lines()
    local = [m for m in map(_local, lines) if m]
    assert len(local) == 1, "binder/requirements.txt must install this repository (.[extras]) exactly once"
    extras = {e.strip() for e in (local[0].group(1) or "").split(",") if e.strip()}
    optional = PYPROJECT["project"]["optional-dependencies"]
    assert extras <= set(optional), f"unknown extras {extras - set(optional)}"
    assert "lab" in extras, "Binder needs the lab extra (JupyterLab, ipykernel >= 7.4)"
    allowed = _extra_names(extras)
    for line in lines:
        if _local(line):
            continue
        req = Requirement(line)  # raises on a malformed line
        name = canonicalize_name(req.name)
        assert name != canonicalize_name(PACKAGE), "install the repository's package, not a PyPI copy"
        assert name in allowed or name in _notebook_imports(), (
            f"binder lists {req.name}, which neither the installed extras nor any notebook need"
        )


def test_the_quickstart_installs_what_every_example_notebook_imports() -> None:
    """The README's first command is ``bash scripts/quickstart.sh`` and its next step the example
    notebooks: the extras it installs must declare every module a notebook imports."""
    script = (ROOT / "scripts" / "quickstart.sh").read_text()
    installed = re.search(r'pip install .*-e "\.\[([\w,-]+)\]"', script)
    assert installed, "the quickstart installs this repository's package with extras"
    declared = _extra_names(set(installed.group(1).split(",")))
    provided_by = importlib.metadata.packages_distributions()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            modules = re.findall(r"^\s*(?:import|from)\s+(\w+)", cell.source, flags=re.M)
            modules += re.findall(r'"-m",\s*"(\w+)"', cell.source)  # an MCP server run as python -m MODULE
            modules += ["mcp"] * ("--tools mcp:" in cell.source)  # MCP tools need the SDK
            for module in modules:
                if module in sys.stdlib_module_names or module == "llmring_jupyter":
                    continue
                dists = {canonicalize_name(d) for d in provided_by.get(module, [module])}
                assert dists & declared, f"{path.name} uses {module}, which the quickstart does not install"


def test_binder_runtime_satisfies_requires_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"runtime.txt must read python-X.Y, not {runtime!r}"
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(match.group(1) + ".0")


def test_binder_requirements_resolve_to_this_package() -> None:
    """pip, offline, reads binder/requirements.txt from the repository root (as repo2docker does)."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed here (needed to build the package offline)")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            "--report",
            "-",
            "-r",
            "binder/requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    import json

    report = json.loads(run.stdout)
    names = {canonicalize_name(item["metadata"]["name"]) for item in report["install"]}
    assert canonicalize_name(PACKAGE) in names
    local = next(i for i in report["install"] if canonicalize_name(i["metadata"]["name"]) == canonicalize_name(PACKAGE))
    assert Path(urllib.parse.unquote(urllib.parse.urlparse(local["download_info"]["url"]).path)).resolve() == ROOT


def _badges() -> list[str]:
    return re.findall(r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)", README.read_text())


def test_the_readme_badge_opens_the_quickstart_in_lab() -> None:
    badges = _badges()
    assert badges, "README.md needs a Launch on Binder badge"
    repo = urllib.parse.urlparse(REPO_URL).path.strip("/")
    for url in badges:
        parsed = urllib.parse.urlparse(url)
        assert parsed.path.startswith(f"/v2/gh/{repo}/"), url
        (urlpath,) = urllib.parse.parse_qs(parsed.query)["urlpath"]
        assert urlpath.startswith("lab/tree/"), url
        target = ROOT / urlpath.removeprefix("lab/tree/")
        assert target.is_file(), f"the badge opens {target}, which does not exist"
    assert any(u.endswith(("notebooks%2Fquickstart.ipynb", "notebooks/quickstart.ipynb")) for u in badges)


# README content -------------------------------------------------------------------------------


def test_readme_keeps_the_two_setup_commands() -> None:
    text = README.read_text()
    assert "bash scripts/quickstart.sh" in text and "bash scripts/test.sh" in text


def test_the_site_documents_every_option_of_the_demo_model() -> None:
    """Each ``-o name=…`` the demo model reads (a long answer: ``tokens``) is on the first page."""
    source = (ROOT / "llmring_jupyter" / "providers" / "demo.py").read_text()
    options = set(re.findall(r"request\.options\.get\(\"(\w+)\"", source))
    assert options, "the demo model reads its options from request.options"
    text = (ROOT / "docs" / "get-started.md").read_text()
    assert [o for o in sorted(options) if f"-o {o}=" not in text] == []


def _tracked(folder: Path) -> set[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "--", str(folder)], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
    if not out:  # not a git checkout: the files on disk
        return {p.name for p in folder.iterdir() if p.name != "__pycache__"}
    return {Path(f).relative_to(folder.relative_to(ROOT)).parts[0] for f in out}


def _listed(text: str, folder: str) -> set[str]:
    """The names a code block that starts with ``folder`` lists, one per line."""
    block = re.search(rf"^{re.escape(folder)}\n(.*?)^```", text, flags=re.S | re.M)
    assert block, f"{HOW_IT_WORKS.name} lists {folder} in a code block of its own"
    return {line.split()[0].rstrip("/") for line in block.group(1).splitlines() if line.strip()}


@pytest.mark.parametrize(
    "folder",
    [
        "llmring_jupyter/",
        "llmring_jupyter/notebook/",
        "llmring_jupyter/view/",
        "llmring_jupyter/answer/",
        "llmring_jupyter/context/",
        "llmring_jupyter/records/",
        "llmring_jupyter/providers/",
        "llmring_jupyter/render/",
    ],
)
def test_how_it_works_lists_the_package_layout(folder: str) -> None:
    listed = _listed(HOW_IT_WORKS.read_text(), folder)
    actual = {n.removesuffix("/") for n in _tracked(ROOT / folder)}
    assert sorted(actual - listed) == [], f"How it works misses these files of {folder}"
    assert sorted(listed - actual) == [], f"How it works lists files {folder} does not have"


# Notebooks ------------------------------------------------------------------------------------


def _tidy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tidy_notebooks", ROOT / "scripts" / "tidy_notebooks.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_committed_notebooks_are_tidy() -> None:
    assert _tidy().untidy() == [], "run .venv/bin/python scripts/tidy_notebooks.py"


def test_tidying_a_notebook_with_an_inserted_cell_keeps_every_other_id() -> None:
    tidy = _tidy().tidy
    nb = nbformat.read(ROOT / "notebooks" / "data.ipynb", as_version=4)
    ids = [c.id for c in nb.cells]
    nb.cells.insert(2, nbformat.v4.new_code_cell("print('new')"))
    del nb.cells[2]["id"]
    nb.cells.insert(4, nbformat.from_dict(nb.cells[0]))  # a pasted copy keeps a duplicate id
    tidied = tidy(nb, keep_outputs=False)
    new = [c.id for c in tidied.cells]
    assert [i for n, i in enumerate(new) if n not in (2, 4)] == ids
    assert len(set(new)) == len(new)


def test_only_the_quickstart_keeps_outputs_and_they_are_static() -> None:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        if path.stem != "quickstart":
            assert outputs == [], f"{path.name}: commit it with outputs cleared"
            continue
        assert not [o for o in outputs if o.output_type == "error"]
        for o in outputs:
            assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {}), "a live view was saved"
        assert "widgets" not in nb.metadata, "no widget state in the committed quickstart"
