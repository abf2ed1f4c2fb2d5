"""Free text must land intact in Python, TOML and Markdown: checked on generated strings."""

from __future__ import annotations

import ast
import tomllib

from hypothesis import example, given
from hypothesis import strategies as st

from asgigen.template_filters import markdown_inline, python_string, toml_string

# Any text a YAML answer or a command line can carry: no lone surrogates.
texts = st.text(st.characters(exclude_categories=("Cs",)))
TRICKY = "He said \"hi\" \\ {{ x }} {% if %} 🚀 中文 'quote'\nnew line\t\x00\u2028"


@given(texts)
@example(TRICKY)
@example('"""')
@example("'\"'")
def test_python_string_round_trips(text: str) -> None:
    literal = python_string(text)
    assert ast.literal_eval(literal) == text
    compile(f"x = {literal}\n", "<test>", "exec")
    assert "\n" not in literal


@given(texts)
@example(TRICKY)
def test_toml_string_round_trips(text: str) -> None:
    document = f"value = {toml_string(text)}\n"
    assert tomllib.loads(document)["value"] == text


def test_python_string_prefers_double_quotes_like_ruff_format() -> None:
    assert python_string("it's") == '"it\'s"'
    assert python_string('say "hi"') == "'say \"hi\"'"
    assert python_string("🚀") == '"🚀"'


@given(texts)
@example(TRICKY)
def test_markdown_inline_is_one_line(text: str) -> None:
    rendered = markdown_inline(text)
    assert "\n" not in rendered
    assert "\r" not in rendered


def test_markdown_inline_escapes_markup() -> None:
    assert markdown_inline("# *bold* <b>`x`</b>") == r"\# \*bold\* \<b\>\`x\`\</b\>"
