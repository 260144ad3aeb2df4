"""What ``{{Err}}`` and ``%llm fix`` know of an error, from cells run in a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from llmring_jupyter.context.cell_errors import ErrorLog
from llmring_jupyter.context.interpolate import interpolate
from llmring_jupyter.exceptions import UsageError


@pytest.fixture
def shell() -> Iterator[tuple[InteractiveShell, ErrorLog]]:
    ip = InteractiveShell.instance()
    log = ErrorLog(ip)
    ip.events.register("post_run_cell", log.post_run_cell)
    yield ip, log
    ip.events.unregister("post_run_cell", log.post_run_cell)


def _run(ip: InteractiveShell, code: str) -> int:
    ip.run_cell(code, store_history=True)
    return ip.execution_count - 1


def test_the_latest_error_has_its_cell_source_and_the_cells_frames(shell: tuple[InteractiveShell, ErrorLog]) -> None:
    ip, log = shell
    defined = _run(ip, "def ratio(a, b):\n    return a / b")
    failed = _run(ip, "x = 1\nratio(x, 0)")
    error = log.latest()
    assert (error.count, error.type, error.message, error.source) == (
        failed,
        "ZeroDivisionError",
        "division by zero",
        "x = 1\nratio(x, 0)",
    )
    assert error.traceback.splitlines() == [
        f"  Cell In[{failed}], line 2, in <module>",
        "    ratio(x, 0)",
        f"  Cell In[{defined}], line 2, in ratio",
        "    return a / b",
        "ZeroDivisionError: division by zero",
    ], "IPython's own frames (run_code) are left out"
    text = interpolate("why? {{Err}}", {"Err": log}).text
    assert text.startswith(f"why? Error in cell [{failed}]: ZeroDivisionError: division by zero")
    assert "```python\nx = 1\nratio(x, 0)\n```" in text and error.traceback in text


def test_library_frames_are_trimmed_to_where_the_code_entered_and_where_it_raised(
    shell: tuple[InteractiveShell, ErrorLog],
) -> None:
    ip, log = shell
    failed = _run(ip, "import json\njson.loads('{')")
    lines = log.latest().traceback.splitlines()
    assert lines[:2] == [f"  Cell In[{failed}], line 2, in <module>", "    json.loads('{')"]
    assert lines[2].startswith("  File json/__init__.py, line ") and lines[2].endswith(", in loads")
    assert lines[4] == "  … 1 frame inside libraries …"  # decode(), between loads() and raw_decode()
    assert lines[5].startswith("  File json/decoder.py, line ") and lines[5].endswith(", in raw_decode")
    assert lines[-1].startswith("JSONDecodeError: Expecting property name enclosed in double quotes")
    assert "/" not in lines[2].split(",")[0].removeprefix("  File json/"), "no machine paths"


def test_errors_are_kept_per_execution_count_without_ansi(shell: tuple[InteractiveShell, ErrorLog]) -> None:
    ip, log = shell
    first = _run(ip, "raise ValueError('\\x1b[31mred\\x1b[0m text')")
    _run(ip, "ok = 1")
    second = _run(ip, "{}['missing']")
    assert log[first].message == "red text" and "\x1b" not in log[first].traceback
    assert log.latest().count == second and log.latest().type == "KeyError"
    assert interpolate(f"{{{{Err[{first}]}}}}", {"Err": log}).text.startswith(f"Error in cell [{first}]: ValueError")
    with pytest.raises(UsageError) as caught:
        interpolate(f"{{{{Err[{second + 5}]}}}}", {"Err": log})
    assert f"cells with errors: {first}, {second}" in caught.value.message


def test_a_syntax_error_shows_the_line_and_its_caret(shell: tuple[InteractiveShell, ErrorLog]) -> None:
    ip, log = shell
    _run(ip, "x = (1,")
    error = log.latest()
    assert error.type == "SyntaxError" and error.source == "x = (1,"
    assert "x = (1," in error.traceback and "^" in error.traceback


def test_questions_that_fail_are_not_the_error_a_user_asks_about(shell: tuple[InteractiveShell, ErrorLog]) -> None:
    ip, log = shell
    _run(ip, "1 / 0")
    ip.run_cell("%%llm nosuchprovider:x\nhello", store_history=True)  # unknown magic here: an error
    assert log.latest().type == "ZeroDivisionError"


def test_no_error_yet_is_one_line_saying_what_to_do() -> None:
    with pytest.raises(UsageError, match=r"No cell has raised an error since %load_ext llmring_jupyter"):
        interpolate("{{Err}}", {"Err": ErrorLog(InteractiveShell.instance())})


def test_the_extension_records_errors_and_a_user_variable_named_err_wins() -> None:
    import llmring_jupyter

    ip = InteractiveShell.instance()
    llmring_jupyter.load_ipython_extension(ip)
    try:
        magics = ip.magics_manager.registry["LLMMagics"]
        _run(ip, "1 / 0")
        assert interpolate("{{Err}}", magics.namespace()).text.startswith("Error in cell [")
        _run(ip, "Err = 'mine'")
        assert interpolate("{{Err}}", magics.namespace()).text == "mine"
    finally:
        llmring_jupyter.unload_ipython_extension(ip)
        ip.user_ns.pop("Err", None)
    _run(ip, "[][0]")
    assert magics.errors.latest().type == "ZeroDivisionError", "unloading removes the hook"


def test_an_error_from_before_the_extension_was_loaded_is_adopted() -> None:
    ip = InteractiveShell.instance()
    failed = _run(ip, "def half(x):\n    return x / 0\nhalf(4)")
    log = ErrorLog(ip)
    log.adopt_last()
    error = log.latest()
    assert (error.count, error.type, error.source) == (
        failed,
        "ZeroDivisionError",
        "def half(x):\n    return x / 0\nhalf(4)",
    )
    assert f"  Cell In[{failed}], line 3, in <module>" in error.traceback
