"""Context from the notebook, as each provider receives it: outputs, errors, ``%llm fix``, images, files.

A real kernel talks to the wire server on 127.0.0.1 in every provider's own
format, through the real SDKs; what a request carried is read from the HTTP
body the server received.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernel_providers import one_line_error, value, wired_kernel
from kernel_session import Execution, Kernel
from PIL import Image
from providers.dialects import NAMES, Dialect, load
from wire_server import WireServer, serving

from llmring_jupyter.providers import registry
from llmring_jupyter.providers.adapter import WireAdapter
from llmring_jupyter.providers.inputs import Inputs
from llmring_jupyter.render import COPY_SCRIPT

FIXED = "def ratio(a, b):\n    return a / b if b else 0.0"


@pytest.fixture(scope="module")
def wire() -> Iterator[WireServer]:
    yield from serving()


@pytest.fixture(scope="module")
def kernel(wire: WireServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    yield from wired_kernel(wire.url, tmp_path_factory.mktemp("context"), delay="0")


@pytest.fixture(params=NAMES)
def dialect(request: pytest.FixtureRequest) -> Dialect:
    return load(request.param)


def _ask(kernel: Kernel, wire: WireServer, d: Dialect, code: str, answer: str = "ok") -> tuple[Execution, str]:
    """Run ``code`` (a question to ``d``'s model) and return the run and the user text sent."""
    wire.queue(d.answer([answer]))
    before = len(wire.seen)
    run = kernel.run(code)
    assert run.ok, run.error
    assert len(wire.seen) == before + 1, "exactly one request"
    return run, d.sent_messages(wire.last())[-1][1]


def _count(kernel: Kernel, code: str) -> int:
    run = kernel.run(code)
    return int(run.reply["content"]["execution_count"])


def test_a_cells_output_and_code_reach_the_provider(kernel: Kernel, wire: WireServer, dialect: Dialect) -> None:
    kernel.run("answer = 6 * 7")
    n = _count(kernel, "{'auc': answer / 100, 'n': answer}")
    _, sent = _ask(
        kernel,
        wire,
        dialect,
        f"%%llm {dialect.provider}:{dialect.model} --no-history\n"
        f"Cell {{{{In[{n}]}}}} gave {{{{Out[{n}]}}}}; auc {{{{Out[{n}]['auc']}}}}, last {{{{_['n']}}}}",
    )
    assert sent == "Cell {'auc': answer / 100, 'n': answer} gave {'auc': 0.42, 'n': 42}; auc 0.42, last 42"


def test_err_sends_the_exception_the_trimmed_traceback_and_the_cells_source(
    kernel: Kernel, wire: WireServer, dialect: Dialect
) -> None:
    defined = _count(kernel, "def ratio(a, b):\n    return a / b")
    failed = _count(kernel, "total = 3\nratio(total, 0)")
    _, sent = _ask(kernel, wire, dialect, f"%%llm {dialect.provider}:{dialect.model} --no-history\nWhy? {{{{Err}}}}")
    assert sent == (
        f"Why? Error in cell [{failed}]: ZeroDivisionError: division by zero\n\n"
        "The cell's code:\n```python\ntotal = 3\nratio(total, 0)\n```\n\n"
        "Traceback (trimmed to the frames that matter):\n"
        f"  Cell In[{failed}], line 2, in <module>\n    ratio(total, 0)\n"
        f"  Cell In[{defined}], line 2, in ratio\n    return a / b\n"
        "ZeroDivisionError: division by zero"
    )
    _, by_count = _ask(
        kernel, wire, dialect, f"%%llm {dialect.provider}:{dialect.model} --no-history\n{{{{Err[{failed}]}}}}"
    )
    assert by_count == sent.removeprefix("Why? ")


def test_fix_sends_the_error_and_puts_the_corrected_cell_below(
    kernel: Kernel, wire: WireServer, dialect: Dialect
) -> None:
    kernel.run("def ratio(a, b):\n    return a / b")
    failed = _count(kernel, "ratio(1, 0)")
    answer = f"`b` is zero, so the division fails. Guard it:\n\n```python\n{FIXED}\n```\n"
    run, sent = _ask(kernel, wire, dialect, f"%llm fix {dialect.provider}:{dialect.model} --no-history", answer)
    assert sent.startswith("A cell of my Jupyter notebook raised the error below. Explain its cause")
    assert f"Error in cell [{failed}]: ZeroDivisionError: division by zero" in sent
    assert "```python\nratio(1, 0)\n```" in sent and f"  Cell In[{failed}], line 1, in <module>" in sent
    assert run.reply["content"]["payload"] == [{"source": "set_next_input", "text": FIXED, "replace": False}]
    assert "Guard it" in run.final["data"]["text/plain"], "the explanation streams as an answer"
    (box,) = [
        m["content"]["data"] for m in run.of("display_data") if COPY_SCRIPT in m["content"]["data"].get("text/html", "")
    ]
    assert box["text/plain"] == FIXED


def test_an_error_from_before_load_ext_can_be_asked_about(tmp_path: Path) -> None:
    k = Kernel(cwd=tmp_path, env={"LLMRING_DEMO_DELAY": "0"})
    try:
        assert not k.run("{}['missing']").ok
        assert k.run("%load_ext llmring_jupyter").ok
        run = k.run("%llm fix demo:echo --no-history")
        assert run.ok, run.error
        assert "Error in cell [1]: KeyError: 'missing'" in run.final["data"]["text/plain"]
        assert run.reply["content"]["payload"][0]["text"] == "{}['missing']"
    finally:
        k.close()


def test_fix_with_no_error_yet_is_one_line_and_sends_nothing(wire: WireServer, tmp_path: Path) -> None:
    k = Kernel(cwd=tmp_path)
    try:
        assert k.run("%load_ext llmring_jupyter").ok
        before = len(wire.seen)
        run = k.run("%llm fix demo")
        assert not run.ok and "No cell has raised an error since %load_ext llmring_jupyter" in run.error
        assert len(run.reply["content"]["traceback"]) == 1 and len(wire.seen) == before
    finally:
        k.close()


# Images and files ----------------------------------------------------------------------------

#: A model of each provider that takes text alone: an image for it must fail before any request.
TEXT_ONLY = {"openai": "gpt-3.5-turbo", "anthropic": "claude-2.1", "google": "gemini-1.0-pro", "ollama": "llama3.2:3b"}

MAKE_FILES = """
from PIL import Image
img = Image.new("RGB", (3, 2), (255, 0, 0))
img.save("plot.png")
Image.new("RGB", (8, 8), (0, 0, 255)).save("paper.pdf")
open("notes.md", "w").write("# Notes\\nWest is new.\\n")
wide = Image.new("RGB", (4000, 1000), (0, 128, 0))
"""


def _inputs(d: Dialect) -> Inputs:
    """What the provider's models take beside text (every dialect's adapter is a wire adapter)."""
    adapter = registry.get(d.provider)
    assert isinstance(adapter, WireAdapter)
    return adapter.inputs


def _vision(d: Dialect) -> str:
    return _inputs(d).vision_example


def _png(data: bytes) -> tuple[tuple[int, int], tuple[int, ...]]:
    image = Image.open(io.BytesIO(data))
    pixel = image.convert("RGB").getpixel((0, 0))
    assert isinstance(pixel, tuple)
    return image.size, pixel


@pytest.fixture(scope="module")
def files(kernel: Kernel) -> None:
    assert kernel.run(MAKE_FILES).ok


def test_an_image_in_a_placeholder_is_the_providers_own_image_part(
    kernel: Kernel, wire: WireServer, dialect: Dialect, files: None
) -> None:
    _, sent = _ask(kernel, wire, dialect, f"%%llm {_vision(dialect)} --no-history\nWhat colour is {{{{img}}}}?")
    assert sent == "What colour is [image 1: img]?"
    ((kind, media_type, data),) = dialect.sent_parts(wire.last())
    assert (kind, media_type) == ("image", "image/png")
    assert _png(data) == ((3, 2), (255, 0, 0))


def test_attach_sends_images_and_pdfs_natively_and_inlines_text(
    kernel: Kernel, wire: WireServer, dialect: Dialect, files: None
) -> None:
    documents = _inputs(dialect).documents
    attach = "--attach plot.png --attach notes.md" + (" --attach paper.pdf" if documents else "")
    _, sent = _ask(kernel, wire, dialect, f"%%llm {_vision(dialect)} --no-history {attach}\nSummarise")
    assert sent == "Summarise\n\nFile notes.md:\n```md\n# Notes\nWest is new.\n```"
    parts = dialect.sent_parts(wire.last())
    assert [(k, t) for k, t, _ in parts] == [("image", "image/png")] + ([("document", "application/pdf")] * documents)
    assert _png(parts[0][2]) == ((3, 2), (255, 0, 0))
    if documents:
        assert parts[1][2] == (kernel_dir(kernel) / "paper.pdf").read_bytes()


def test_a_text_only_model_fails_in_one_line_before_anything_is_sent(
    kernel: Kernel, wire: WireServer, dialect: Dialect, files: None
) -> None:
    before = len(wire.seen)
    run = kernel.run(f"%%llm {dialect.provider}:{TEXT_ONLY[dialect.provider]}\nWhat is {{{{img}}}}?")
    assert one_line_error(run).endswith(
        f"{dialect.provider}:{TEXT_ONLY[dialect.provider]} cannot take images, so img (a 3×2 PNG) was not sent; "
        f"use a model that does, e.g. {_vision(dialect)}."
    )
    assert len(wire.seen) == before


#: How each provider refuses an image for a model that reads text alone (HTTP 400).
REFUSALS = {
    "openai": "Invalid content type. image_url is only supported by certain models.",
    "anthropic": "This model does not support image input.",
    "google": "Image input modality is not enabled for models/gemini-house-1",
}


@pytest.mark.parametrize("provider", sorted(REFUSALS))
def test_a_model_not_known_to_us_is_sent_the_image_and_its_refusal_is_one_line(
    kernel: Kernel, wire: WireServer, files: None, provider: str
) -> None:
    """A name we do not know is not refused on a guess: the provider decides, and says so."""
    d = load(provider)
    wire.queue(d.http_error(400, REFUSALS[provider]))
    before = len(wire.seen)
    error = one_line_error(kernel.run(f"%%llm {provider}:house-1 --no-history\nWhat colour is {{{{img}}}}?"))
    assert len(wire.seen) == before + 1, "sent: the provider decides"
    assert error.startswith("UnsupportedInputError: ") and REFUSALS[provider].rstrip(".") in error, error
    assert error.endswith(f"use a model that does, e.g. {_vision(d)}."), error


@pytest.mark.parametrize(("model", "sees"), [("house-eyes:7b", True), ("gemma3:1b", False), ("llama3.2:3b", False)])
def test_ollama_says_which_of_its_models_take_images(
    kernel: Kernel, wire: WireServer, files: None, model: str, sees: bool
) -> None:
    """Not a guess from the name: the server's ``/api/show`` capabilities, asked once per model."""
    d = load("ollama")
    for _ in range(2):
        before = len(wire.seen)
        if sees:
            _ask(kernel, wire, d, f"%%llm ollama:{model} --no-history\nWhat colour is {{{{img}}}}?")
            ((_, _, data),) = d.sent_parts(wire.last())
            assert _png(data) == ((3, 2), (255, 0, 0))
        else:
            run = kernel.run(f"%%llm ollama:{model} --no-history\nWhat colour is {{{{img}}}}?")
            assert one_line_error(run).endswith(
                f"ollama:{model} cannot take images, so img (a 3×2 PNG) was not sent; "
                "use a model that does, e.g. ollama:llama3.2-vision."
            )
            assert len(wire.seen) == before, "nothing but the question of what the model takes was sent"
    asked = [s.json["model"] for s in wire.routed if s.path == "/api/show"]
    assert asked.count(model) == 1, "asked once by this kernel, then remembered"


def test_a_large_image_is_scaled_down_to_the_providers_limits(
    kernel: Kernel, wire: WireServer, dialect: Dialect, files: None
) -> None:
    limits = _inputs(dialect).images
    assert limits is not None
    _ask(kernel, wire, dialect, f"%%llm {_vision(dialect)} --no-history\n{{{{wide}}}}")
    ((_, _, data),) = dialect.sent_parts(wire.last())
    (width, height), colour = _png(data)
    assert max(width, height) <= limits.max_side and width * height <= limits.max_pixels
    assert width > 3 * height and colour == (0, 128, 0), "the same picture, its shape kept"


def test_image_turns_are_sent_again_with_later_questions(
    kernel: Kernel, wire: WireServer, dialect: Dialect, files: None
) -> None:
    chat = f"--chat pictures-{dialect.provider} --new"
    _ask(kernel, wire, dialect, f"%%llm {_vision(dialect)} {chat}\nRemember {{{{img}}}}", "Red.")
    _, sent = _ask(kernel, wire, dialect, f"%%llm {_vision(dialect)} --chat pictures-{dialect.provider}\nIts colour?")
    assert sent == "Its colour?"
    assert [m[1] for m in dialect.sent_messages(wire.last())][-3:] == ["Remember [image 1: img]", "Red.", "Its colour?"]
    ((_, _, data),) = dialect.sent_parts(wire.last())
    assert _png(data) == ((3, 2), (255, 0, 0))


def kernel_dir(kernel: Kernel) -> Path:
    return Path(value(kernel, "__import__('os').getcwd()"))


def test_the_dry_run_lists_each_part_with_a_thumbnail_and_its_tokens(
    kernel: Kernel, wire: WireServer, files: None
) -> None:
    before = len(wire.seen)
    run = kernel.run("%%llm openai:gpt-4o-mini --dry-run --no-history --attach paper.pdf\nCompare {{img}} and {{wide}}")
    assert run.ok, run.error
    assert len(wire.seen) == before, "a dry run sends nothing"
    (shown,) = [m["content"]["data"] for m in run.of("display_data")]
    assert shown["text/plain"].endswith(
        "[user]\nCompare [image 1: img] and [image 2: wide]\n"
        "[image img: a 3×2 PNG, about 1 token]\n"
        "[image wide: a 4000×1000 PNG, about 820 tokens]\n"
        "[document paper.pdf: a PDF of 1 KB, about 1,500 tokens]"
    )
    assert shown["text/plain"].startswith("Dry run: 1 messages to openai:gpt-4o-mini, about 2,3")
    thumbnails = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="(\w+)"', shown["text/html"])
    assert [(alt, Image.open(io.BytesIO(base64.b64decode(b))).size) for b, alt in thumbnails] == [
        ("img", (3, 2)),
        ("wide", (96, 24)),
    ]


def test_chat_takes_attach_like_the_line(kernel: Kernel, wire: WireServer, files: None) -> None:
    d = load("openai")
    wire.queue(d.answer(["A red pixel block."]))
    run = kernel.run(
        "import llmring_jupyter\n"
        "r = await llmring_jupyter.chat('Describe it', 'openai:gpt-4o-mini', attach='plot.png', history=False)"
    )
    assert run.ok, run.error
    assert d.sent_messages(wire.last())[-1][1] == "Describe it"
    ((kind, _, data),) = d.sent_parts(wire.last())
    assert kind == "image" and _png(data) == ((3, 2), (255, 0, 0))


def test_fix_on_the_demo_model_hands_the_failing_cell_back_below(kernel: Kernel) -> None:
    failing = "values = [1, 2]\nvalues[5]"
    assert not kernel.run(failing).ok
    run = kernel.run("%llm fix demo --no-history")
    assert run.ok, run.error
    assert "Your code, handed back" in run.final["data"]["text/plain"]
    assert run.reply["content"]["payload"] == [{"source": "set_next_input", "text": failing, "replace": False}]


@pytest.mark.parametrize(
    "how",
    [
        "get_ipython().run_line_magic('llm', 'fix demo --no-history')",
        "try:\n    values[5]\nexcept IndexError:\n    %llm fix demo --no-history",
    ],
    ids=["called from code", "indented under except"],
)
def test_fix_runs_when_called_from_code_or_indented(kernel: Kernel, how: str) -> None:
    failing = "values = [1, 2]\nvalues[5]"
    assert not kernel.run(failing).ok
    run = kernel.run(how)
    assert run.ok, run.error
    assert "coroutine" not in json.dumps(run.messages, default=str), (
        "it ran, rather than showing an unawaited coroutine"
    )
    assert "Your code, handed back" in run.final["data"]["text/plain"]
    assert run.reply["content"]["payload"] == [{"source": "set_next_input", "text": failing, "replace": False}]


def test_a_cell_asked_from_code_streams_and_a_call_inside_a_function_is_one_line(kernel: Kernel) -> None:
    run = kernel.run("get_ipython().run_cell_magic('llm', 'demo:echo --no-history', 'echo me')")
    assert run.ok, run.error
    assert run.final["data"]["text/plain"].startswith("echo me\n\n— demo:echo")
    run = kernel.run("def ask():\n    %llm fix demo\nask()")
    assert not run.ok and len(run.reply["content"]["traceback"]) == 1
    assert run.reply["content"]["ename"] == "UsageError"
    assert "use them at the top level of a cell" in run.reply["content"]["evalue"]


def test_fix_works_in_terminal_ipython_too(tmp_path: Path) -> None:
    ipython = Path(sys.executable).with_name("ipython")
    run = subprocess.run(
        [str(ipython), "--simple-prompt", "--no-banner", "--colors=nocolor", "--ext=llmring_jupyter"],
        input="x = [1]\nx[3]\n%llm fix demo:echo --no-history\nexit\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "LLMRING_DEMO_DELAY": "0"},
    )
    assert run.returncode == 0, run.stderr
    answer = run.stdout.split("In [3]: ", 1)[1]
    assert "Error in cell [2]: IndexError: list index out of range" in answer
    assert "```python\nx[3]\n```" in answer and "\n— demo:echo · stop · " in answer
    assert answer.split("tok/s\n", 1)[1].startswith("x[3]\n"), "the corrected code, printed for copying"
