from llmring_jupyter._transform import awaitable_cell


def test_llm_cell_becomes_one_awaited_call_with_the_text_verbatim() -> None:
    lines = ["%%llm demo --max-tokens 5\n", "Braces {x} and 'quotes' \"stay\"\n", "\\n too\n"]
    (code,) = awaitable_cell(lines)
    assert code.startswith("await get_ipython().find_cell_magic('llm')(")
    compiled_args = eval(code.removeprefix("await get_ipython().find_cell_magic('llm')"))
    assert compiled_args == ("demo --max-tokens 5", "Braces {x} and 'quotes' \"stay\"\n\\n too\n")


def test_other_cells_are_untouched() -> None:
    for lines in (["print(1)\n"], ["%%llmx\n", "a\n"], ["%%time\n", "%%llm\n"], []):
        assert awaitable_cell(lines) == lines
