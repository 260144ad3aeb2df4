"""The Copy button of ``--format code``: the one script an answer's HTML ever holds."""

import json

from .rules import STYLES

#: The Copy button of ``--format code``, for frontends that ignore ``set_next_input`` (VS Code,
#: Colab). A constant, never built from model text. It runs only where trusted outputs run
#: scripts (JupyterLab, Notebook 7, VS Code, Colab); elsewhere (GitHub, nbviewer, an untrusted
#: notebook) it is dropped or inert, and as the button exists only once it has run, no dead
#: button is ever shown. It finds its code block from its own element, not a page-wide selector:
#: JupyterLab runs it in place, inside the block's wrapper; VS Code runs a copy appended to the
#: element that holds just this output. It copies the code's text (never HTML) with the Clipboard
#: API, or, where that is missing or refused (plain http off localhost), by selecting the code.
COPY_JS = """(() => {
  const code = document.currentScript?.parentElement?.querySelector(".llmring-code > pre > code");
  if (!code) return;
  const button = document.createElement("button");
  const show = (text, name) => { button.textContent = text; button.setAttribute("aria-label", name); };
  let timer;
  const say = (text) => {
    show(text, text);
    clearTimeout(timer);
    timer = setTimeout(() => show("Copy", "Copy the code"), 2000);
  };
  const bySelection = () => {
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    let copied = false;
    try { copied = document.execCommand("copy"); } catch {}
    say(copied ? "Copied" : "Copy failed — select the code");
  };
  button.type = "button";
  button.setAttribute("aria-live", "polite");
  button.style.cssText = __STYLE__;
  show("Copy", "Copy the code");
  button.addEventListener("click", () => {
    if (!navigator.clipboard) return bySelection();
    navigator.clipboard.writeText(code.textContent).then(() => say("Copied"), bySelection);
  });
  code.parentElement.before(button);
})();"""
COPY_JS = COPY_JS.replace("__STYLE__", json.dumps(STYLES["copy_button"]))  # the live view's placeholder's style
COPY_SCRIPT = f"<script>{COPY_JS}</script>"
