"""A real JupyterLab server and notebooks driven in it, for browser tests.

The server runs in a throwaway home (settings, workspaces, runtime, config
and user data dirs) so a developer's own JupyterLab setup cannot change what
the tests see, while the venv's data path (sys.prefix/share/jupyter) is kept:
the widget manager and anywidget labextensions live there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from kernel_guard import check
from playwright.sync_api import Locator, Page, expect

#: Settings that keep JupyterLab quiet and deterministic: start the kernel
#: without asking, render every cell (no virtual scrolling hiding outputs),
#: and never reach the internet for news or updates.
SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
THEMES = "@jupyterlab/apputils-extension/themes"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
#: Default demo pace in the kernels: quick; tests that watch a stream slow it in a cell.
DEMO_DELAY = "0.005"
#: The status bar's kernel item once a kernel (not "No Kernel") is idle.
KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "images"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a condition outside the browser (files, HTTP) until true or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabServer:
    """``jupyter lab`` on 127.0.0.1 with a token, started once per test session.

    ``env`` is the environment the server starts from (default: this process's);
    its kernels inherit it, so it is how a test session points their providers.
    """

    def __init__(self, home: Path, env: Mapping[str, str] | None = None) -> None:
        check("JupyterLab")
        self.root = home / "notebooks"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home
        self.settings = settings = home / "settings"
        for plugin, values in SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.root.mkdir()
        server_env = dict(os.environ if env is None else env) | {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),  # sys.prefix/share/jupyter stays on the path
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "LLMRING_DEMO_DELAY": DEMO_DELAY,
        }
        args = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        self.log_path = home / "server.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=self.root, env=server_env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._ready, 60, "JupyterLab to answer on /api/status")
        except AssertionError:
            self.close()
            raise AssertionError(f"JupyterLab did not start:\n{self.log_tail()}") from None

    def set_theme(self, theme: str) -> None:
        """The theme pages load with from now on ("JupyterLab Light" or "JupyterLab Dark").

        Written where JupyterLab and Notebook 7 each read their user settings.
        """
        for root in (self.settings, self.home / "config" / "lab" / "user-settings"):
            path = root / f"{THEMES}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"theme": theme}))

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            self.api("GET", "/api/status")
            return True
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def shutdown_kernels(self) -> None:
        """End every notebook's kernel, so each test starts from a clean server."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def close(self) -> None:
        """Ask the server to shut down (it stops its kernels), then make sure it is gone."""
        if self.process.poll() is None:
            try:
                self.api("POST", "/api/shutdown")
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._log.close()


@dataclass
class Notebook:
    """One notebook open in a page: run its cells, read their outputs, save and reload it."""

    lab: LabServer
    page: Page
    path: Path
    ui: str = "lab"  # or "notebook": Notebook 7

    @classmethod
    def create(cls, lab: LabServer, page: Page, name: str, cells: list[str], ui: str = "lab") -> Notebook:
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(c) for c in cells], metadata={"kernelspec": KERNELSPEC}
        )
        path = lab.root / name
        nbformat.write(nb, path)
        notebook = cls(lab, page, path, ui)
        notebook.open()
        return notebook

    @property
    def url(self) -> str:
        if self.ui == "notebook":
            return f"{self.lab.url}/notebooks/{self.path.name}?token={self.lab.token}"
        return f"{self.lab.url}/lab/tree/{self.path.name}?reset&token={self.lab.token}"

    def open(self) -> None:
        """Load JupyterLab on this notebook and wait until its kernel is idle."""
        self.page.goto(self.url)
        expect(self.page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
        self.wait_idle()

    def reload(self, wait_idle: bool = True) -> None:
        """Reload the page; unless told not to, wait until the kernel is idle (any cell ended)."""
        self.page.reload()
        expect(self.page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
        if wait_idle:
            self.wait_idle()

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Wait for a started kernel to be idle, as the status bar shows it.

        The toolbar's execution indicator reads "idle" before any kernel
        exists ("No Kernel"), so it cannot tell a ready kernel from none.
        """
        if self.ui == "notebook":  # no status bar: ask the server
            wait_until(self.kernel_idle, timeout / 1000, "the notebook's kernel to be idle")
            return
        kernel = self.page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)
        expect(kernel).to_be_visible(timeout=timeout)

    def restart_kernel(self) -> None:
        """Restart the kernel as a user does: Kernel menu, Restart Kernel…, confirm."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel…$")).click()
        self.page.locator(".jp-Dialog").get_by_role("button", name="Confirm Kernel Restart").click()

    def kernel_idle(self) -> bool:
        sessions = self.lab.api("GET", "/api/sessions")
        return any(s["path"].endswith(self.path.name) and s["kernel"]["execution_state"] == "idle" for s in sessions)

    def cell(self, index: int) -> Locator:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea-output")

    def prompt(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-InputArea-prompt")

    def focus(self, index: int) -> None:
        """Put the cursor in cell ``index`` (making it the active cell) and let focus settle."""
        self.cell(index).locator(".cm-content").click()
        self.page.wait_for_timeout(150)

    def run(self, index: int, attempts: int = 3) -> None:
        """Start cell ``index`` with Ctrl+Enter, checking the press took.

        Ctrl+Enter runs the cell in place: no empty cell is appended below
        the last one (it would show in screenshots). Right after the kernel
        turns idle JupyterLab sometimes drops a key press, so: focus the
        editor, let focus settle, press, and retry if the prompt did not change.
        """
        prompt = self.prompt(index)
        before = prompt.inner_text()
        for _ in range(attempts):
            self.focus(index)
            self.page.keyboard.press("Control+Enter")
            try:
                expect(prompt).not_to_have_text(before, timeout=3_000)
                return
            except AssertionError:
                continue
        raise AssertionError(f"cell {index} did not start after {attempts} Ctrl+Enter presses")

    def wait_done(self, index: int, timeout: float = 30_000) -> None:
        """Wait until cell ``index`` shows an execution count (not ``[*]``)."""
        expect(self.prompt(index)).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)

    def run_and_wait(self, index: int, timeout: float = 30_000) -> None:
        self.run(index)
        self.wait_done(index, timeout)

    def save(self, saved: Callable[[dict[str, Any]], bool], attempts: int = 3) -> None:
        """Save with Ctrl+S until the file on disk satisfies ``saved`` (retrying dropped presses)."""

        def on_disk() -> bool:
            try:
                return saved(json.loads(self.path.read_text()))
            except json.JSONDecodeError:  # caught mid-write
                return False

        for _ in range(attempts):
            self.focus(0)
            self.page.keyboard.press("Control+s")
            try:
                wait_until(on_disk, 5, f"{self.path.name} to be saved")
                return
            except AssertionError:
                continue
        raise AssertionError(f"{self.path.name} was not saved after {attempts} Ctrl+S presses")


def screenshot(page: Page, target: Locator, name: str, pad_below: int = 0) -> None:
    """Save a README image to docs/images, only when LLMRING_SCREENSHOTS=1 (CI must not touch the repo).

    ``pad_below`` extends the shot under ``target``: a streaming cell grows
    while the shot is taken, which would otherwise crop its status bar.
    """
    if os.environ.get("LLMRING_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None, f"{name}: nothing to photograph"
    page.screenshot(
        path=str(SCREENSHOTS / name),
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"] + pad_below},
    )


#: A notebook function for the tool tests: it records its calls and returns hostile markup.
TOOL = '''calls = []
def get_weather(city: str) -> str:
    """The current weather in a city."""
    calls.append(city)
    return f"<img src=x onerror=window.__pwned=7> 18 °C in {city}"'''
PROMPT = "Is it warmer in Paris or in Oslo right now?"
