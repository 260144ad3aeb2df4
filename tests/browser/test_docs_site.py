"""The documentation site in a real browser: light and dark both readable, and every link of every
page leads somewhere that exists.

The site is the real Sphinx build (``docs_site``, examples not executed: their outputs are checked
where ``scripts/test.sh`` builds the site with them run), served from 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser

PROBE = (Path(__file__).with_name("view_probe.js")).read_text()
AA = 4.5
PAGES = ["index.html", "get-started.html", "guides/tools.html", "reference/options.html", "reference/errors.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not the test's output."""


@pytest.fixture(scope="module")
def site(docs_site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(docs_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_meets_aa_contrast_in_light_and_dark(
    browser: Browser, site: str, scheme: Literal["light", "dark"]
) -> None:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    backgrounds = set()
    try:
        for path in PAGES:
            page.goto(site + path)
            page.add_script_tag(content=PROBE)
            low = page.evaluate("() => window.__llmringProbe.contrast(document.querySelector('article'))")
            assert [t for t in low if t["ratio"] < AA] == [], path
            backgrounds.add(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))
    finally:
        context.close()
    assert errors == []
    # The theme follows the reader's setting: a dark page in dark mode, a light one otherwise.
    levels = {sum(int(c) for c in rgb[rgb.index("(") + 1 : -1].split(",")[:3]) / 765 for rgb in backgrounds}
    assert all(level < 0.2 for level in levels) if scheme == "dark" else all(level > 0.9 for level in levels)


def test_every_link_of_every_page_resolves(browser: Browser, site: str, docs_site: Path) -> None:
    page = browser.new_page()
    broken: list[str] = []
    try:
        for html in sorted(docs_site.rglob("*.html")):
            if html.parent.name in ("_static", "_sources"):
                continue
            url = site + str(html.relative_to(docs_site))
            page.goto(url)
            hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
            for href in hrefs:
                parsed = urllib.parse.urlsplit(href)
                if parsed.netloc != urllib.parse.urlsplit(site).netloc:
                    continue  # another site: not this build's to check, and tests reach no network
                target = docs_site / urllib.parse.unquote(parsed.path.lstrip("/"))
                if target.is_dir():
                    target = target / "index.html"
                if not target.exists():
                    broken.append(f"{html.relative_to(docs_site)} → {href}")
                elif parsed.fragment and target.suffix == ".html":
                    ids = f'id="{parsed.fragment}"'
                    if ids not in target.read_text(encoding="utf-8"):
                        broken.append(f"{html.relative_to(docs_site)} → {href} (no such anchor)")
    finally:
        page.close()
    assert broken == []
