"""``--format code`` in a real kernel: a new cell below where the frontend supports it, a Copy button elsewhere."""

from __future__ import annotations

from kernel_session import Kernel

from llmring_jupyter.render import COPY_SCRIPT

CODE = 'print("</script><script>alert(1)</script>")\nx = `y`'
ANSWER = f"Here you are:\n```python\n{CODE}\n```\nEnjoy."


def test_code_answer_ends_static_with_the_copy_script_and_fills_the_next_cell(kernel: Kernel) -> None:
    run = kernel.run(f"%%llm demo:echo --no-history --format code\n{ANSWER}")
    assert run.ok, run.error
    html = run.final["data"]["text/html"]
    assert html.count(COPY_SCRIPT) == html.lower().count("<script") == 1
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Enjoy" not in html, "only the code is shown"
    assert run.final["metadata"]["llmring"]["model"] == "demo:echo"
    opened, closed = run.widget_comms
    assert opened and opened <= closed, "the button is no widget: nothing is left open"
    assert run.reply["content"]["payload"] == [{"source": "set_next_input", "text": CODE, "replace": False}]


def test_other_formats_carry_no_script_and_no_next_cell(kernel: Kernel) -> None:
    run = kernel.run(f"%%llm demo:echo --no-history\n{ANSWER}")
    assert run.ok, run.error
    assert "<script" not in run.final["data"]["text/html"].lower()
    assert run.reply["content"]["payload"] == []
