from IPython.core.inputtransformer2 import TransformerManager

from llmring_jupyter.notebook.transform import awaited_magics


def _transformed(cell: str) -> str:
    """The cell as the kernel runs it: IPython's own transforms, then ours."""
    return "".join(awaited_magics(TransformerManager().transform_cell(cell).splitlines(keepends=True)))


def test_llm_cell_becomes_one_awaited_call_with_the_text_verbatim() -> None:
    code = _transformed("%%llm demo --max-tokens 5\nBraces {x} and 'quotes' \"stay\" é\n\\n too\n")
    prefix = "(await get_ipython().find_cell_magic('llm')("
    assert code.startswith(prefix) and code.endswith(", awaited=True))\n")
    args = eval(code.removeprefix(prefix).removesuffix(", awaited=True))\n") + ",")
    assert args == ("demo --max-tokens 5", "Braces {x} and 'quotes' \"stay\" é\n\\n too\n")


def test_fix_is_awaited_wherever_an_await_may_stand() -> None:
    awaited = "(await get_ipython().find_line_magic('llm')('fix demo', awaited=True))"
    assert _transformed("%llm fix demo") == f"{awaited}\n"
    assert _transformed("try:\n    x\nexcept:\n    %llm fix demo\n") == f"try:\n    x\nexcept:\n    {awaited}\n"
    assert _transformed('s = "é"; get_ipython().run_line_magic("llm", "fix")') == (
        's = "é"; (await get_ipython().find_line_magic(\'llm\')("fix", awaited=True))\n'
    )


def test_other_code_is_untouched() -> None:
    for cell in (
        "print(1)\n",
        "%%llmx\na\n",
        "%%time\n%%llm\n",
        "%llm models\n",
        "def f():\n    %llm fix\n",  # no await inside a function: the magic says where to put it
        "[get_ipython().run_cell_magic('llm', '', 'x') for _ in 'ab']\n",
        "if (:\n",
    ):
        assert _transformed(cell) == TransformerManager().transform_cell(cell)
