"""js/json.js, the live view's pretty-printer of partial JSON, run in Node on the real module."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JSON_JS = Path(__file__).parent.parent / "js" / "json.js"

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="needs node")

SCRIPT = """
import { jsonPrinter, prettyJson } from %s;
const docs = JSON.parse(process.argv[1]);
const out = docs.map((doc) => {
  const printer = jsonPrinter();
  const pieces = [];
  for (let i = 0; i < doc.length; i += 3) pieces.push(printer.push(doc.slice(i, i + 3)));
  const prefixes = [];
  for (let n = 0; n <= doc.length; n += 7) prefixes.push(prettyJson(doc.slice(0, n)));
  return { whole: prettyJson(doc), streamed: pieces.join(""), prefixes };
});
console.log(JSON.stringify(out));
"""


def run(docs: list[str]) -> list[dict[str, object]]:
    code = SCRIPT % json.dumps(JSON_JS.as_uri())
    done = subprocess.run(
        ["node", "--input-type=module", "-e", code, json.dumps(docs)], capture_output=True, text=True, check=True
    )
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


VALUES = [
    {"items": [{"title": "A, {b}: [c]", "year": 2020, "topics": ["x", "y"]}, {"title": 'q"uote\\\\', "topics": []}]},
    {"empty": {}, "list": [], "nested": [[1, 2], {"a": None, "b": True}], "text": "line\nbreak\ttab é ✓"},
    [1, -2.5e3, "s"],
]


def test_complete_json_is_printed_like_json_stringify_with_two_spaces_however_it_arrives() -> None:
    docs = [json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in VALUES]
    docs += [json.dumps(v, indent=4) for v in VALUES]  # oddly spaced, as some models send it
    for doc, out in zip(docs, run(docs), strict=True):
        expected = json.dumps(json.loads(doc), indent=2, ensure_ascii=doc.isascii())
        assert out["whole"] == expected and out["streamed"] == expected


def test_partial_json_is_a_prefix_of_the_final_view_so_the_live_text_never_jumps() -> None:
    doc = json.dumps(VALUES[0], separators=(",", ":"))
    (out,) = run([doc])
    for prefix in out["prefixes"]:  # type: ignore[attr-defined]
        assert str(out["whole"]).startswith(prefix)
