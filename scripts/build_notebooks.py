"""Write the example notebooks in notebooks/ from the cells below.

    .venv/bin/python scripts/build_notebooks.py            # all notebooks, outputs cleared
    .venv/bin/python scripts/build_notebooks.py --execute  # and run the quickstart, keeping its outputs

Edit the notebooks here, not in JupyterLab, so their diffs stay small: cell ids
are derived from the notebook's name and the cell's position, and every
notebook but the quickstart is committed without outputs. The quickstart keeps
its outputs (``--execute``) so that GitHub, which cannot run it, shows the
static answers and footers a reader would see.

Every notebook runs top to bottom on the offline ``demo`` model without any
key: ``tests/kernel/test_notebooks.py`` executes each one in CI.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def md(text: str) -> tuple[str, str]:
    return ("markdown", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


NEXT = md("""
## Where next

- [providers.ipynb](providers.ipynb): real models, keys, `llmring.lock` aliases, profiles and fallbacks, Ollama
- [conversations.ipynb](conversations.ipynb): named chats, re-running cells, history, system prompts, export and load
- [data.ipynb](data.ipynb): a DataFrame as context, code answers, `--out`, and asking from a Python loop
- The [README](../README.md) documents every option, command and setting.
""")

QUICKSTART = [
    md("""
# llmring_jupyter quickstart

Talk to a language model from a notebook cell and watch the answer stream in.

Everything in this notebook runs on the offline **`demo`** model: no API key, no network, no cost.
It answers with a short markdown text about your prompt, streamed word by word, so you can see
exactly what a real model's answer would look like here. Run the cells from top to bottom
(**Run ▸ Run All Cells**, or Shift+Enter on each).

First, load the extension, once per notebook:
"""),
    code("%load_ext llmring_jupyter"),
    md("""
## Ask a question

A cell that starts with `%%llm` sends the rest of its text as the prompt. The word after `%%llm`
names the model (`demo` here; it is also the default, so `%%llm` alone would do).

While the answer streams you see it grow, rendered as markdown, with a **■ Stop** button.
When it ends, a **footer** says which model actually answered, how it finished (`stop`: it was
complete), the tokens used (prompt → answer) and how long it took; then the live view turns
into a static, safe rendering that stays in the notebook when you save it, on GitHub, and after
a kernel restart.
"""),
    code("""
%%llm demo
Write a haiku about streaming
"""),
    md("""
## Stopping an answer

The next cell streams slowly (`-o delay=0.05` asks the demo model for 50 ms between words), so
you have time to press **■ Stop** in its output:

- the request is cancelled (a real provider stops generating, and stops billing),
- the text that had arrived is kept, and the footer says **■ stopped**,
- the cell ends normally, so the next cells can run.

Interrupting the kernel (the ■ button in the toolbar, or **Kernel ▸ Interrupt**) stops it too,
but *fails* the cell, so **Run All** stops there. The Stop button needs ipykernel 7.4 or newer;
on an older kernel the view says so, and the kernel's interrupt always works.
"""),
    code("""
%%llm demo -o delay=0.05
Tell me a long story about a notebook that learned to talk, slowly enough to press Stop halfway
"""),
    md("""
## The conversation continues

Cells do not ask in isolation: each `%%llm` cell sends the earlier questions and answers of the
notebook's conversation along with its prompt, so you can follow up. The demo model says how many
earlier messages it was sent; this cell's answer counts the turns above.

Re-running a cell *replaces* its own turn instead of adding one, so the conversation follows the
notebook, not the order you happened to run cells in. `%%llm --no-history` asks a one-off
question; [conversations.ipynb](conversations.ipynb) shows named chats and more.
"""),
    code("""
%%llm
Now one about notebooks, please
"""),
    md("""
## The answer as a Python object: `_llm`

After each `%%llm` cell, `_llm` holds the answer as a `Result`: its text, the model that served it,
how it finished, token usage, timings, and the exact messages that were sent.
"""),
    code("""
print(_llm.text[:120], "…")
print("model:", _llm.model, "| finished:", _llm.finish_reason)
print("tokens:", _llm.usage.prompt_tokens, "→", _llm.usage.completion_tokens)
print("first token after", round(_llm.timings.first_token or 0, 3), "s; total", round(_llm.timings.total, 3), "s")
print("messages sent:", [m.role for m in _llm.messages])
"""),
    md("""
## Options on the `%%llm` line

`--system` sets a system prompt for this answer, `--max-tokens` caps the answer's length (the
footer then says it was **truncated**), `--temperature` sets the sampling temperature and
`--format text` shows the answer as plain text instead of markdown.
"""),
    code("""
%%llm demo --max-tokens 12 --system "You are a patient teacher"
Explain what a token is
"""),
    md("""
`demo:echo` streams your prompt back verbatim, handy to check what a cell really sends:
"""),
    code("""
%%llm demo:echo --format text --no-history
Single braces {like these} are sent as written.
"""),
    md("""
## Help and models

`%llm help` lists every option and command; `%llm models` shows the aliases of your
`llmring.lock` (if there is one) and which providers have keys.
"""),
    code("%llm help"),
    code("%llm models"),
    NEXT,
]

PROVIDERS = [
    md("""
# Real models: keys, names, `llmring.lock`, Ollama

This notebook shows how to use OpenAI, Anthropic, Google Gemini and Ollama. **It also runs top to
bottom without any key**: every cell that would need a real provider either uses an alias whose
fallback chain ends with the offline `demo` model, or is a small Python guard that prints
`skipped: …` when the key is missing. (A `%%llm` cell cannot be skipped from Python, so the
`%%llm` cells here use aliases that fall back to `demo`.)
"""),
    code("%load_ext llmring_jupyter"),
    md("""
## Keys

Keys are read from the environment: `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`
(or `GOOGLE_API_KEY`). Ollama needs none. Set them before starting Jupyter, or enter one in the
notebook with a hidden prompt:

```
%llm key openai
```

The key is kept in this kernel's environment only: it is never written to the notebook, its
outputs or its metadata, and it is gone when the kernel stops. (The cell below is commented out
so that the notebook runs unattended; remove the `#` to use it.)
"""),
    code("""
# %llm key openai
"""),
    md("""
`%llm models` says which providers have a key:
"""),
    code("%llm models"),
    md("""
## `provider:model` names

Any model can be named directly as `provider:model`: `openai:gpt-4o-mini`,
`anthropic:claude-3-5-haiku-20241022`, `google:gemini-2.0-flash`, `ollama:llama3.2:3b`.
In a cell that is `%%llm openai:gpt-4o-mini`. From Python, a guard can skip the question when
there is no key; this cell asks OpenAI only if `OPENAI_API_KEY` is set:
"""),
    code("""
import os
import llmring_jupyter

if os.environ.get("OPENAI_API_KEY"):
    await llmring_jupyter.chat("Say hello in five words", "openai:gpt-4o-mini", history=False)
else:
    print("skipped: set OPENAI_API_KEY (or run %llm key openai) to ask openai:gpt-4o-mini")
"""),
    md("""
## `llmring.lock`: aliases, profiles, fallbacks

Rather than writing model names into every cell, name what you want in an **`llmring.lock`**
file (llmring's TOML format) and use the alias: `%%llm fast`. Each alias lists models in order;
if one fails *before its first word* (no key, provider unreachable, model missing), the next is
tried. Text already shown is never mixed with another model's, and an authentication error
(a wrong key) is not retried on the next model.

The next cell writes a lockfile into this notebook's folder; the extension finds the nearest
`llmring.lock` in the working directory or its parents (or set `%config LLMMagics.lockfile`, or
`LLMRING_LOCKFILE_PATH`). Every chain ends with `demo`, which is why this notebook runs without
keys: with no key the answer comes from `demo`, and the footer says so.
"""),
    code("""
%%writefile llmring.lock
version = "1.0"
default_profile = "default"

# Best available hosted model, or the offline demo when no key is set.
[[profiles.default.bindings]]
alias = "fast"
models = ["openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-20241022", "google:gemini-2.0-flash", "demo"]

# A model served by Ollama (see OLLAMA_HOST below), else the demo.
[[profiles.default.bindings]]
alias = "local"
models = ["ollama:llama3.2:3b", "demo"]

# The "offline" profile binds the same alias to the demo model only:
# handy for running a notebook on a train, or in CI.
[[profiles.offline.bindings]]
alias = "fast"
models = ["demo:echo"]
"""),
    code("%llm models"),
    md("""
Ask through the alias. Look at the footer: it names the model that actually answered
(`demo:chat` when you have no key), and `_llm.requested` keeps the alias you asked for.
"""),
    code("""
%%llm fast --no-history
In one sentence: why use an alias instead of a model name?
"""),
    code("""
print("asked for", _llm.requested, "→ served by", _llm.model)
"""),
    md("""
## Profiles

A profile is a second set of bindings for the same aliases. Choose one with
`%config LLMMagics.profile = "offline"` (or the `LLMRING_PROFILE` environment variable); unset it
to go back to the file's `default_profile`. In the `offline` profile, `fast` is `demo:echo`:
"""),
    code("""
%config LLMMagics.profile = "offline"
"""),
    code("""
%%llm fast --no-history
This answer comes from the offline profile.
"""),
    code("""
%config LLMMagics.profile = None
print("back to the default profile; fast is served by the first model that works")
"""),
    md("""
## Ollama, on this machine or another

Ollama needs no key. It is reached at `http://127.0.0.1:11434` unless `OLLAMA_HOST` says
otherwise, for example a GPU box on your network: `OLLAMA_HOST=http://gpu-box.local:11434`.
Set it before starting Jupyter, or in the notebook as below (a kernel-wide setting).
Pull the model there first: `ollama pull llama3.2:3b`.

The `local` alias falls back to `demo` when no Ollama answers, so this runs anywhere.
"""),
    code("""
import os

# Change to your Ollama server, e.g. "http://gpu-box.local:11434"; setdefault keeps a value set before Jupyter started.
os.environ.setdefault("OLLAMA_HOST", "http://127.0.0.1:11434")
print("Ollama at", os.environ["OLLAMA_HOST"])
"""),
    code("""
%%llm local --no-history
Name three things a local model is good for.
"""),
    md("""
## Other endpoints

OpenAI-compatible servers (vLLM, LM Studio, a proxy) work through `OPENAI_BASE_URL`; there are
also `ANTHROPIC_BASE_URL` and `GOOGLE_GEMINI_BASE_URL`. Errors (a missing key, an unknown alias,
a rate limit) show as one line that says what to do, and fail the cell so **Run All** stops.
"""),
    NEXT,
]

CONVERSATIONS = [
    md("""
# Conversations

Every `%%llm` cell belongs to a conversation: it is sent the earlier questions and answers along
with its prompt. Runs on the offline `demo` model, which says how many earlier messages it
received, so you can see what each question carried.
"""),
    code("%load_ext llmring_jupyter"),
    code("""
%%llm
What is a conversation, for a language model?
"""),
    code("""
%%llm
And how long can one be?
"""),
    md("""
## Re-running a cell replaces its turn

A conversation follows the **notebook**, not the order cells happened to run in. Each turn is
keyed by the cell that asked it. Re-run the first question above: it is sent only the turns
*before* it, its new answer replaces its old turn in place, and the second question, when
re-run, sees the new answer. A new cell adds a turn.

JupyterLab and Notebook 7 send each cell's id with its execution, so a cell stays the same cell
however you edit it. Where no id is sent (nbclient, some other frontends) the cell's **text** is
the key: re-running an unchanged cell still replaces its turn, but an edited cell counts as a new
turn (use `%llm reset` to start over).

`%llm history` shows the conversation: who said what, which model, how many tokens.
Try it after re-running one of the cells above: the number of turns does not grow.
"""),
    code("%llm history"),
    md("""
## Named chats

`--chat NAME` keeps a separate conversation, so two threads of work do not mix. `--new` starts
that chat afresh, and `--no-history` asks a one-off question that is sent alone and not recorded.
`%llm chats` lists them.
"""),
    code("""
%%llm --chat review --new
Review this function name: calc_stuff2
"""),
    code("""
%%llm --chat review
And this one: total_price_with_tax
"""),
    code("""
%%llm --no-history
A question on the side, outside every conversation
"""),
    code("%llm chats"),
    md("""
## System prompts

`%llm system [NAME] TEXT` sets a conversation's system prompt, sent first with every question of
that chat (`--system TEXT` on a `%%llm` line overrides it for one answer). NAME is read as a chat's
name only when that chat exists; otherwise the whole text is the default chat's system prompt.
"""),
    code("%llm system review You are a terse code reviewer. Answer in one line."),
    md("""
## See what would be sent: `--dry-run`

`--dry-run` shows the exact messages a cell would send (system prompt, earlier turns, the prompt)
and their estimated tokens, and sends nothing:
"""),
    code("""
%%llm --chat review --dry-run
And this one: x
"""),
    md("""
## Save, reset and load

Conversations live in the kernel: a restart forgets them. `%llm export` saves one to JSON (to load
again later) or Markdown (to read and share); `%llm reset` forgets one; `%llm load FILE [NAME]`
brings a JSON export back, optionally under a new name. The files are written next to this
notebook.
"""),
    code("%llm export review review-chat.json"),
    code("%llm export review review-chat.md"),
    code("""
print(open("review-chat.md").read()[:600])
"""),
    code("%llm reset review"),
    code("%llm load review-chat.json review"),
    code("""
%%llm --chat review
One more: get_user_by_id
"""),
    code("%llm chats"),
    md("""
## Limits

Long conversations are trimmed before they are sent: at most `%config LLMMagics.history_turns`
earlier turns (default 50) and about `%config LLMMagics.history_tokens` tokens (default 12,000),
oldest first; the footer says when turns were left out. Stopped or truncated answers are sent as
context unless `%config LLMMagics.resend_incomplete = False`.
"""),
    NEXT,
]

DATA = [
    md("""
# Data: DataFrames as context, code answers, loops

Runs on the offline `demo` model; with a key, change the model names (or set
`%config LLMMagics.default_model`) to get real analysis.
"""),
    code("""
%load_ext llmring_jupyter
import pandas as pd
import llmring_jupyter
"""),
    code("""
sales = pd.DataFrame({
    "month": pd.date_range("2024-01-01", periods=12, freq="MS"),
    "region": ["north", "south", "east", "west"] * 3,
    "units": [120, 95, 143, 80, 132, 101, 150, 77, 128, 99, 160, 85],
    "price": [9.5, 9.5, 9.9, 10.2, 9.5, 9.7, 9.9, 10.2, 9.4, 9.7, 9.9, 10.4],
})
sales.head()
"""),
    md("""
## `{{name}}` puts a variable into the prompt

A DataFrame is sent compactly: its shape, column types and first rows as CSV, not the whole table
(anything long is cut at `%config LLMMagics.max_value_chars`, default 4,000 characters). Attribute
paths work too (`{{sales.columns}}`). Single braces are left alone, and `\\{{name}}` is sent as
written. `demo:echo` shows exactly what the model receives:
"""),
    code("""
%%llm demo:echo --format text --no-history
Which region sells most? Here is the data:
{{sales}}
"""),
    md("""
Only names and attribute paths are looked up, never evaluated, and a name that is not defined
fails the cell with a message that says so.

## `--format code`: an answer you can run

With `--format code`, the answer's code blocks are shown as code and, in JupyterLab and
Notebook 7, put into a **new cell below** for you to review and run. (VS Code cannot insert a cell
from a kernel; there the output's **Copy** button copies the code.)

`--out NAME` also keeps the result in a variable of your choice (it is always in `_llm` too),
so the next answer does not overwrite it.
"""),
    code("""
%%llm --format code --out plot_answer
Write pandas code that plots units by month for each region of {{sales}}
"""),
    code("""
print(plot_answer.model, plot_answer.finish_reason)
print(plot_answer.text[:400])
"""),
    md("""
## Asking from Python: `await llmring_jupyter.chat(...)`

`chat()` takes the same options as the `%%llm` line (`model`, `chat=`, `system=`, `temperature=`,
`max_tokens=`, `history=`, `format=`) and returns the `Result`. Each answer streams into the cell's
output with its footer, like a `%%llm` cell, and joins the conversation (one turn per call), so a
loop can summarise a table row by row. In a plain script, use `llmring_jupyter.chat_sync(...)`.
"""),
    code("""
summaries = {}
for region, rows in sales.groupby("region"):
    result = await llmring_jupyter.chat(
        f"Summarise the {region} region in one sentence:\\n{rows.to_csv(index=False)}",
        "demo", chat="regions", max_tokens=30)
    summaries[region] = result.text

pd.Series(summaries).str.slice(0, 60)
"""),
    code("%llm chats"),
    NEXT,
]

NOTEBOOK_CELLS = {
    "quickstart": QUICKSTART,
    "providers": PROVIDERS,
    "conversations": CONVERSATIONS,
    "data": DATA,
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook(
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    for index, (kind, source) in enumerate(cells):
        cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
        cell.id = hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
        nb.cells.append(cell)
    return nb


def execute(nb: nbformat.NotebookNode) -> None:
    """Run the notebook on the demo model, at its own pace, in a scratch folder (its files stay out of the repo)."""
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as folder:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", store_widget_state=False, resources={"metadata": {"path": folder}}
        ).execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)


def main(argv: list[str]) -> int:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, cells in NOTEBOOK_CELLS.items():
        nb = build(name, cells)
        if name == "quickstart" and "--execute" in argv:
            execute(nb)
        path = NOTEBOOKS / f"{name}.ipynb"
        if name == "quickstart" and "--execute" not in argv and path.exists():
            old = nbformat.read(path, as_version=4)
            if [c.source for c in old.cells] == [c.source for c in nb.cells]:
                continue  # keep its stored outputs
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
