"""Free-text answers land intact in every file of every style (hypothesis-generated text)."""

from __future__ import annotations

import ast
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from asgigen import generate
from tests.tools import venv_tool

# Any text a user can pass: no surrogates, and of the control characters only newline and tab
# (asgigen and the template's validators refuse the others: YAML answer files and Markdown
# can't carry them faithfully).
texts = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), max_size=60
)
# e2e: about twenty renderings of the built-in template per style, each one ruff-formatted.
pytestmark = pytest.mark.e2e
TRICKY = "He said \"hi\" \\ {{ x }} {% if %} 🚀 中文 'q'\nnew line\t<b>*x*</b> #1"


def render(root: Path, style: str, description: str, author: str) -> Path:
    target = root / "proj"
    request = generate.GenerateRequest(
        target=target,
        style=style,
        description=description,
        data={"author": author},
        defaults=True,
        interactive=False,
        dry_run=False,
        force=True,
    )
    return generate.new_project(request).path


def assert_valid(project: Path, description: str, author: str) -> None:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == description
    for source in project.rglob("*.py"):
        ast.parse(source.read_text(encoding="utf-8"), str(source))
    for document in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        yaml.safe_load(document.read_text(encoding="utf-8"))
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["description"] == description
    assert answers["author"] == author
    # However long the text, `ruff format` leaves the project as it is (its own settings).
    formatted = subprocess.run(
        [venv_tool("ruff"), "format", "--check", "--diff", "."],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    readme = (project / "README.md").read_text(encoding="utf-8")
    # The description never breaks out of its line: no injected headings or blocks. Its first
    # line with text may stand alone (it starts the rendered line); no later one may.
    lines = [line.strip() for line in description.splitlines() if line.strip()]
    for line in lines[1:]:
        assert f"\n{line}\n" not in readme


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(description=texts, author=texts)
@example(description=TRICKY, author='O\'Brien "Bob" \\')
@example(description="", author="")
@example(description="\n0", author="")  # the first line blank: the second one leads
# Lines over 100 columns: ruff wraps the first (escapes make it long) in parentheses; the
# second fits unwrapped only when counted in characters, not columns (CJK is two wide); the
# third is too long even wrapped, so ruff leaves it on its line.
@example(
    description="0" * 22 + "\u2e5e0\U0001e1e7\U000a6b8f\U000c88da\U000dd4e4\U000de487", author=""
)
@example(description="中" * 45, author="")
@example(description="\U000a6b8f" * 12, author="")
def test_free_text_stays_valid(
    tmp_path_factory: pytest.TempPathFactory, style: str, description: str, author: str
) -> None:
    root = tmp_path_factory.mktemp("free")
    project = render(root, style, description, author)
    assert_valid(project, description, author)
