"""A hostile answer cannot put a live element into the notebook.

The model's text (here streamed back verbatim by ``demo:echo``) carries scripts, event
handlers, frames, SVG, ``javascript:``/``data:``/``vbscript:`` links and raw HTML in
markdown, in code blocks and in TeX (``\\text``, ``\\style``, ``\\href``, ``\\class``,
``\\unicode``, ``\\def``…, which become MathML). The static bundle that replaces the live
view, in the live session and in the notebook saved by nbclient, is parsed: only an
allowlist of tags (MathML's with fewer attributes: no ``class``, ``style`` or ``href``),
no ``on*`` attribute, no ``src``, no dangerous link, no ``url(…)``; the one script allowed
is ``--format code``'s constant Copy button. (The real-browser checks live in tests/browser/.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from kernel_session import Kernel

from llmring_jupyter.render import COPY_SCRIPT

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[png](data:image/png;base64,iVBORw0KGgo=)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "![tracker](https://evil.example/pixel.gif)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '<a href="javascript:alert(1)">raw link</a>',
    '<div onclick="alert(1)">raw div</div>\n\n<style>body{display:none}</style>',
    "<details open ontoggle=alert(1)>x</details>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "```html\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```",
    "```javascript:alert(1)\ncode\n```",
    "    <script>indented code</script>",
    "`<img src=x onerror=alert(1)>`",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "| a | b |\n|---|---|\n| <script>x</script> | [x](javascript:y) |",
    # TeX: text commands carry raw markup, other commands attributes, into the MathML
    '$\\text{<img/src="x"/onerror=alert(1)>}$',
    "$\\mbox{<script>alert(1)</script>}$",
    "$$\\hbox{<iframe src=https://evil.example/>}\\fbox{<svg onload=alert(1)>}$$",
    "$\\textbf{<a href=javascript:alert(1)>x</a>}$",
    "$\\style{background-image:url(http://example.com/bg.png)}{x}$",
    "$\\href{javascript:alert(1)}{x}$",
    "$\\class{jp-Dialog}{x}$",
    "$\\color{url(http://example.com/c.png)}{x} \\colorbox{url(http://example.com/b.png)}{y}$",
    "$\\unicode{x3c}script\\unicode{x3e}alert(1)$",
    "$\\require{html}\\html{<script>alert(1)</script>}$",
    "$\\def\\tag{<script>}\\tag alert(1)$",
    "$\\text{&lt;script&gt;alert(1)&lt;/script&gt;}$",
]
HOSTILE = "\n\n".join(PAYLOADS)

ALLOWED_TAGS = {
    "div",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "span",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "blockquote",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "s",
}
ALLOWED_ATTRIBUTES = {"class", "style", "href", "target", "rel", "title", "align"}
#: Presentation MathML, as typeset formulas need it (no maction, no links, no classes or styles)
MATH_TAGS = {
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mstyle",
    "merror",
    "mpadded",
    "mphantom",
    "menclose",
    "mover",
    "munder",
    "munderover",
    "mmultiscripts",
    "mprescripts",
    "none",
    "mtable",
    "mtr",
    "mtd",
}
MATH_ATTRIBUTES = {
    "xmlns",
    "display",
    "encoding",
    "mathvariant",
    "mathsize",
    "linebreak",
    "mathcolor",
    "mathbackground",
    "displaystyle",
    "scriptlevel",
    "stretchy",
    "fence",
    "separator",
    "notation",
    "width",
    "height",
    "depth",
    "lspace",
    "rspace",
    "voffset",
    "minsize",
    "maxsize",
    "linethickness",
    "columnalign",
    "rowalign",
    "columnlines",
    "rowlines",
    "columnspacing",
    "rowspacing",
    "movablelimits",
    "accent",
    "accentunder",
    "largeop",
    "symmetric",
    "form",
    "border-color",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS | MATH_TAGS:
            self.problems.append(f"<{tag}>")
        for name, raw in attrs:
            if name.startswith("on") or name not in (MATH_ATTRIBUTES if tag in MATH_TAGS else ALLOWED_ATTRIBUTES):
                self.problems.append(f"<{tag} {name}=...>")
            link = "".join(c for c in (raw or "") if c > " ").lower()  # as browsers read a URL
            if name == "href" and ":" in link.split("/")[0] and not link.startswith(SAFE_SCHEMES):
                self.problems.append(f"<{tag} href={raw!r}>")
            if "url(" in link or "expression(" in link:
                self.problems.append(f"<{tag} {name}={raw!r}>")

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.problems.append("<!--comment-->")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"<![{data[:20]}")


def live_elements(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems


def test_the_audit_catches_what_it_looks_for() -> None:
    assert live_elements('<p>ok <a href="https://x.org" rel="noopener">x</a></p>') == []
    for bad in PAYLOADS[:4] + [
        '<a href=" java\tscript:x">',
        '<a href="data:image/png;base64,x">',
        '<span style="background:url(x)">',
        '<mrow style="color:red">',
        '<mrow class="jp-Dialog">',
        '<mstyle mathcolor="url(x)">',
        '<mrow href="https://x.org">',
        "<maction>",
    ]:
        assert live_elements(bad), bad


@pytest.mark.parametrize("fmt", ["markdown", "text", "code"])
def test_hostile_answer_renders_inert_in_the_live_session(kernel: Kernel, fmt: str, figures: dict[str, Any]) -> None:
    run = kernel.run(f"%%llm demo:echo --no-history --format {fmt}\n{HOSTILE}")
    assert run.ok, run.error
    data = run.final["data"]
    html = data["text/html"]
    if fmt == "code":  # its one script is the Copy button's constant; the answer adds none
        assert html.lower().count("<script") == html.count(COPY_SCRIPT) == 1
        assert live_elements(html) == ["<script>"]
        html = html.replace(COPY_SCRIPT, "")
    assert live_elements(html) == []
    assert data["text/plain"].startswith(HOSTILE.strip()), "the text itself is kept, as text"
    if fmt != "code":  # (code is highlighted: its tags are split into spans)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data["text/html"], "tags show as text"
    if fmt == "markdown":
        assert "&lt;img src=x onerror=alert(1)&gt;" in data["text/html"]
    figures["hostile"] = {
        "payloads": len(PAYLOADS),
        "formats": ["markdown", "text", "code"],
        "views": ["live answer", "history", "dry run", "saved notebook"],
    }


JS = Path(__file__).parents[2] / "js"
TEX = [m.group(1) for p in PAYLOADS if (m := re.fullmatch(r"\$\$?(.*?)\$?\$", p, re.S))]
LIVE_MATH = """
import katex from "katex";
import { texToMathml } from "./math.js";
import { safeMathml } from "./mathml.js";
const tex = JSON.parse(process.argv[2]);
const trusting = (t) => katex.renderToString(t, { output: "mathml", throwOnError: false, trust: true, strict: false });
console.log(JSON.stringify({
  live: tex.map((t) => texToMathml(t, { displayMode: false }) + texToMathml(t, { displayMode: true })),
  trusting: tex.map((t) => safeMathml(trusting(t))),
  raw: safeMathml('<math><mrow href="javascript:x" class="jp-Dialog" style="background:url(x)">'
    + '<mtext><img src=x onerror=alert(1)><script>alert(1)</script></mtext><maction><mi>y</mi></maction>'
    + '<mstyle mathcolor="url(x)" mathvariant="bold"><mi>z</mi></mstyle></mrow></math>'),
}));
"""


@pytest.mark.skipif(
    not (JS / "node_modules" / ".bin" / "esbuild").exists() or not shutil.which("node"),
    reason="needs `cd js && npm ci`",
)
def test_hostile_tex_is_inert_in_the_live_view(tmp_path: Path) -> None:
    """The live view's formulas (js/math.js, bundled as the view is) keep to the same allow-list,
    even for markup KaTeX emits only when trusting the TeX (links, classes, styles)."""
    esbuild = [str(JS / "node_modules" / ".bin" / "esbuild"), "--bundle", "--format=esm", "--platform=node"]
    bundle = tmp_path / "math.mjs"
    subprocess.run(
        [*esbuild, f"--outfile={bundle}"], input=LIVE_MATH, cwd=JS, check=True, capture_output=True, text=True
    )
    done = subprocess.run(["node", str(bundle), json.dumps(TEX)], capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert len(TEX) == 12 and len(out["live"]) == len(out["trusting"]) == len(TEX)
    for markup in out["live"] + out["trusting"] + [out["raw"]]:
        assert live_elements(markup) == [], markup
    assert "<mtext>&lt;img src=x onerror=alert(1)&gt;alert(1)</mtext>" in out["raw"], "what is not a tag is text"
    assert '<mstyle mathvariant="bold"><mi>z</mi>' in out["raw"] and "<mi>y</mi>" in out["raw"]


def test_hostile_text_is_inert_in_history_and_dry_run(kernel: Kernel) -> None:
    assert kernel.run(f"%%llm demo:echo --chat hostile\n{HOSTILE}").ok
    history = kernel.run("%llm history hostile").of("display_data")[0]["content"]["data"]["text/html"]
    dry = kernel.run(f"%%llm demo --chat hostile --dry-run\n{HOSTILE}").of("display_data")[0]["content"]
    assert live_elements(history) == []
    assert live_elements(dry["data"]["text/html"]) == []


def test_hostile_answer_is_inert_in_the_saved_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    monkeypatch.setenv("LLMRING_DEMO_DELAY", "0")
    nb = new_notebook(cells=[new_code_cell("%load_ext llmring_jupyter"), new_code_cell(f"%%llm demo:echo\n{HOSTILE}")])
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(nb, tmp_path / "saved.ipynb")
    saved = nbformat.read(tmp_path / "saved.ipynb", as_version=4)
    (output,) = saved.cells[1].outputs
    assert set(output["data"]) == {"text/html", "text/plain"}, "no widget view is left to run code"
    assert live_elements(output["data"]["text/html"]) == []
