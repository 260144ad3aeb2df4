"""``{{...}}`` placeholders: what is looked up, how it reads, and what is never evaluated."""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmring_jupyter.context.interpolate import Prompt, interpolate
from llmring_jupyter.exceptions import UsageError

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class Box:
    def __init__(self) -> None:
        self.rows = [{"name": "a"}, {"name": "b"}]


def test_items_and_attributes_are_looked_up_in_order() -> None:
    ns = {"results": {"auc": 0.93, "by class": [0.1, 0.2]}, "box": Box(), "Out": {3: "three"}}
    prompt = interpolate(
        'auc {{results["auc"]}} · {{results[\'by class\'][-1]}} · {{box.rows[1]["name"]}} · {{Out[3]}}', ns
    )
    assert prompt == Prompt("auc 0.93 · 0.2 · b · three")


@pytest.mark.parametrize(
    "text",
    ["{{x[1+1]}}", "{{f()}}", "{{x[k]}}", "{{x.__class__()}}", "{{ x [0] }}", "{{x[0]; import os}}"],
)
def test_anything_but_names_attributes_and_literal_keys_is_sent_as_written(text: str) -> None:
    called = []
    ns = {"x": [1, 2, 3], "f": lambda: called.append(1), "k": 0}
    assert interpolate(text, ns).text == text
    assert not called


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{{results["loss"]}}', "{{results[\"loss\"]}}: results has no item 'loss' (its keys: 'auc')."),
        ("{{items[7]}}", "{{items[7]}}: items has no item 7 (it has 3 items)."),
        ("{{n[0]}}", "{{n[0]}}: n (int) has no items to look up."),
        ("{{Out[5]}}", "{{Out[5]}}: Out has no item 5 (it is empty)."),
        ("{{results.auc}}", "{{results.auc}}: results has no attribute 'auc'."),
    ],
)
def test_a_missing_item_is_one_line_that_says_what_is_there(text: str, says: str) -> None:
    ns = {"results": {"auc": 1}, "items": [1, 2, 3], "n": 4, "Out": {}}
    with pytest.raises(UsageError) as caught:
        interpolate(text, ns)
    assert caught.value.message == says


def test_cells_code_and_outputs_come_from_a_real_shell() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("answer = 6 * 7", store_history=True)
    count = shell.execution_count
    shell.run_cell("answer + 1", store_history=True)
    prompt = interpolate(f"code {{{{In[{count}]}}}} gave {{{{Out[{count}]}}}}; last {{{{_}}}}", shell.user_ns)
    assert prompt.text == "code answer + 1 gave 43; last 43"


def test_an_object_can_choose_its_prompt_text() -> None:
    class Report:
        def _llm_prompt_(self) -> str:
            return "the report, briefly"

    assert interpolate("see {{r}}", {"r": Report()}).text == "see the report, briefly"


def test_images_become_parts_with_a_marker_where_they_stood() -> None:
    from IPython.display import Image as IPythonImage
    from PIL import Image

    class Plot:
        def _repr_png_(self) -> bytes:
            return PNG_1X1

    ns = {"pil": Image.new("RGB", (3, 2), "red"), "shown": IPythonImage(data=PNG_1X1), "plot": Plot()}
    prompt = interpolate("compare {{pil}} with {{shown}} and {{plot}}", ns)
    assert prompt.text == "compare [image 1: pil] with [image 2: shown] and [image 3: plot]"
    assert [(a.kind, a.media_type, a.width, a.height, a.name) for a in prompt.attachments] == [
        ("image", "image/png", 3, 2, "pil"),
        ("image", "image/png", 1, 1, "shown"),
        ("image", "image/png", 1, 1, "plot"),
    ]
    assert Image.open(io.BytesIO(prompt.attachments[0].data)).getpixel((0, 0)) == (255, 0, 0)


def test_a_matplotlib_figure_is_sent_as_the_png_the_notebook_shows() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    (part,) = interpolate("{{fig}}", {"fig": fig}).attachments
    assert part.media_type == "image/png" and part.data.startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(io.BytesIO(part.data)).size == (part.width, part.height)
    assert part.width is not None and 80 <= part.width <= 120, (
        "drawn at the figure's own dpi (2 in × 50), its tight box"
    )
    assert part.describe() == f"a {part.width}×{part.height} PNG"


def test_an_object_whose_png_is_none_is_sent_as_text() -> None:
    class Maybe:
        def _repr_png_(self) -> None:
            return None

        def __repr__(self) -> str:
            return "Maybe()"

    assert interpolate("{{m}}", {"m": Maybe()}) == Prompt("Maybe()")


def test_an_image_by_url_says_to_attach_a_file() -> None:
    from IPython.display import Image as IPythonImage

    with pytest.raises(UsageError, match="image by URL, which is not fetched: save it and use --attach PATH"):
        interpolate("{{im}}", {"im": IPythonImage(url="http://127.0.0.1/x.png")})


def test_escaped_placeholders_with_keys_stay_literal() -> None:
    assert interpolate('\\{{d["k"]}} {{d["k"]}}', {"d": {"k": "v"}}).text == '{{d["k"]}} v'


@settings(max_examples=800, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["{{", "}}", "[", "]", "'", '"', "-", "0", "7", ".", "d", "items", "k", "Err", "_", " "]),
            st.text(max_size=4),
        ),
        max_size=16,
    ).map("".join)
)
def test_any_lookup_interpolates_or_is_one_usage_line(prompt: str) -> None:
    """Keys, indexes, quotes and brackets in any order: a value, or one line saying what is wrong."""
    from llmring_jupyter.context.cell_errors import ErrorLog

    ns = {"d": {"k": [1, 2], 0: "zero"}, "items": [10, 20, 30], "k": "key", "_": 5, "Err": ErrorLog(None)}
    try:
        interpolate(prompt, ns)
    except UsageError as exc:
        assert exc.message.strip() and "\n" not in exc.message, repr(exc.message)
