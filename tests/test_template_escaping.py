"""The template's escaping macros (templates/_partials/escape.jinja), rendered on their own.

The macros are called the way the template calls them, `{% from ... import ... %}` in a
sandboxed Jinja environment rooted at templates/ as copier's is, with no asgigen code at all.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import tomllib
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jinja2 import FileSystemLoader, Template
from jinja2.sandbox import SandboxedEnvironment

from tests.tools import venv_tool

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MARKDOWN_SPECIALS = set("\\`*_{}[]<>()#+!|~")

# Any text a YAML answer or a command line can carry: no lone surrogates. The second strategy
# crowds the characters that need care (quotes, backslashes, Jinja and Markdown markup, emoji,
# CJK, whitespace and non-printable characters) so that they meet each other often.
AWKWARD = "\"'\\{}%#`*_[]<>()+!|~ \n\t\r\x00\x7f\xa0\u2028\u200b🚀中文\U000e0001ab"
texts = st.text(st.characters(exclude_categories=("Cs",))) | st.text(st.sampled_from(AWKWARD))
TRICKY = "He said \"hi\" \\ {{ x }} {% if %} 🚀 中文 'quote'\nnew line\t\x00\u2028"


@functools.cache
def macro(name: str) -> Template:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        keep_trailing_newline=True,  # copier's default
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
    return env.from_string(
        f'{{% from "_partials/escape.jinja" import {name} %}}{{{{ {name}(value) }}}}'
    )


def render(name: str, value: object) -> str:
    return macro(name).render(value=value)


@given(texts)
@example(TRICKY)
@example('"""')
@example("'\"'")
@example("\\")
def test_python_string_round_trips(text: str) -> None:
    literal = render("python_string", text)
    assert ast.literal_eval(literal) == text
    compile(f"x = {literal}\n", "<test>", "exec")
    assert "\n" not in literal
    assert "\r" not in literal


@given(texts)
@example(TRICKY)
def test_python_string_quotes_like_ruff_format(text: str) -> None:
    literal = render("python_string", text)
    # ruff format keeps double quotes unless that needs more escapes than single quotes.
    expected_quote = "'" if text.count('"') > text.count("'") else '"'
    assert literal[0] == literal[-1] == expected_quote


@settings(max_examples=25, deadline=None)
@given(st.lists(texts, min_size=1, max_size=40))
@example([TRICKY, "it's", 'say "hi"', "🚀", "\xab\u00ab\U0001f680\u2028", "{{ x }}"])
def test_ruff_format_leaves_python_strings_unchanged(values: list[str]) -> None:
    source = "".join(f"x{i} = {render('python_string', v)}\n" for i, v in enumerate(values))
    formatted = subprocess.run(
        [venv_tool("ruff"), "format", "--isolated", "--line-length", "100", "-"],
        input=source,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout
    assert formatted == source


@given(texts)
@example(TRICKY)
@example('"\\"')
def test_toml_string_round_trips(text: str) -> None:
    document = f"value = {render('toml_string', text)}\n"
    assert tomllib.loads(document)["value"] == text


@given(texts)
@example(TRICKY)
@example("# *bold* <b>`x`</b> \\ [a](b) {{ x }} {% if %}")
def test_markdown_inline_is_one_escaped_line(text: str) -> None:
    rendered = render("markdown_inline", text)
    assert not set(rendered) & {"\n", "\r"}
    # Walk the line: a backslash always escapes a special, and no special stands unescaped.
    unescaped = []
    i = 0
    while i < len(rendered):
        if rendered[i] == "\\":
            assert i + 1 < len(rendered), rendered
            assert rendered[i + 1] in MARKDOWN_SPECIALS, rendered
            i += 1
        else:
            assert rendered[i] not in MARKDOWN_SPECIALS, rendered
        unescaped.append(rendered[i])
        i += 1
    # Removing the escapes gives back the text, its whitespace runs folded to one space.
    assert "".join(unescaped) == " ".join(text.split())


@given(texts)
def test_one_line_folds_whitespace(text: str) -> None:
    assert render("one_line", text) == " ".join(text.split())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("python_string", "it's", '"it\'s"'),
        ("python_string", 'say "hi"', "'say \"hi\"'"),
        ("python_string", "🚀 中文", '"🚀 中文"'),
        ("python_string", "a\\b\nc\td", '"a\\\\b\\nc\\td"'),
        ("python_string", "\x00\u2028\U000e0001", '"\\x00\\u2028\\U000e0001"'),
        ("python_string", "{{ x }} {% if %}", '"{{ x }} {% if %}"'),
        ("toml_string", '🚀 "q" \\', '"🚀 \\"q\\" \\\\"'),
        ("toml_string", "\x00\xa0\U000e0001", '"\\u0000\\u00A0\\U000E0001"'),
        ("toml_string", "", '""'),
        ("markdown_inline", "# *bold* <b>`x`</b>", r"\# \*bold\* \<b\>\`x\`\</b\>"),
        ("markdown_inline", "a\n\n  b\t🚀", "a b 🚀"),
        ("markdown_inline", "{{ x }}", r"\{\{ x \}\}"),
        ("one_line", " a \n b ", "a b"),
    ],
)
def test_known_outputs(name: str, value: str, expected: str) -> None:
    assert render(name, value) == expected
