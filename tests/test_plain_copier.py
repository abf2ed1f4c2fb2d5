"""The template stands alone: plain copier, no asgigen installed, renders and validates it.

Two halves. In-process, the `validator:` and `default:` expressions of copier.yml are rendered
in a sandboxed Jinja environment like copier's and compared with asgigen.naming, the rule set
asgigen checks up front. Then a virtualenv with only copier in it (the version asgigen runs
with) runs `copier copy`, and what it writes must be byte for byte what `asgigen new` writes.
"""

from __future__ import annotations

import functools
import importlib.metadata
import keyword
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from asgigen import generate, naming
from asgigen.errors import BadInputError

# The built-in template of this checkout, which is what `asgigen new` renders here.
TEMPLATE = Path(__file__).resolve().parent.parent / "templates"
STYLES = ["raw", "routed", "fastapi"]
CONFIG: dict[str, Any] = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))


# --- the template's validators, rendered in-process ------------------------------------------


@functools.cache
def jinja_env() -> SandboxedEnvironment:
    # What copier builds: a sandbox rooted at the template, jinja2-ansible-filters loaded.
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATE)),
        keep_trailing_newline=True,
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )


def template_says(question: str, key: str, answers: dict[str, Any]) -> str:
    """Render copier.yml's `key` (validator, default) of `question`."""
    return str(jinja_env().from_string(CONFIG[question][key]).render(answers))


def template_list(name: str) -> set[str]:
    return set(getattr(jinja_env().get_template("_partials/naming.jinja").module, name))


def newer_python_only(name: str) -> bool:
    """Keywords and stdlib modules of a Python newer than this one: the template refuses them."""
    here = set(keyword.kwlist) | set(keyword.softkwlist) | set(sys.stdlib_module_names)
    extra = template_list("KEYWORDS") | template_list("STDLIB_MODULES")
    return name in extra - here


def test_template_lists_cover_this_python_and_asgigen() -> None:
    assert set(keyword.kwlist) | set(keyword.softkwlist) <= template_list("KEYWORDS")
    assert set(sys.stdlib_module_names) <= template_list("STDLIB_MODULES")
    assert template_list("LAYOUT_NAMES") == naming.LAYOUT_NAMES
    assert template_list("RESERVED_PACKAGES") == naming.RESERVED_PACKAGES


NAME_CHARS = "abcxyzAZ019_-./\\ \n\t٣²é'\"🚀"
known_names = sorted(
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(sys.stdlib_module_names)
    | naming.LAYOUT_NAMES
    | naming.RESERVED_PACKAGES
    | {"type", "annotationlib", "compression"}
)
names = st.text(st.sampled_from(NAME_CHARS), max_size=10) | st.sampled_from(known_names) | st.text()


@given(names)
@example("demo\n")
@example("My.Shop")
@example("..")
def test_project_name_validator_is_asgigens_rule(name: str) -> None:
    said = template_says("project_name", "validator", {"project_name": name}).strip()
    expected = naming.project_name_error(name)
    if name.endswith("\n") and not expected:
        # naming.py's `$` lets one trailing newline through; the template's `\Z` does not.
        assert "may only contain" in said
    else:
        assert said == expected


@given(names)
@example("type")
@example("demo\n")
@example("p" * 40)
@example("p" * 41)  # the 40-character limit is asgigen's alone (naming.package_name_length_error)
def test_package_name_validator_is_asgigens_rule(name: str) -> None:
    said = template_says("package_name", "validator", {"package_name": name}).strip()
    expected = naming.package_name_error(name)
    if not expected and name.endswith("\n"):
        assert "is not a valid import name" in said
    elif not expected and newer_python_only(name):
        assert said.endswith(("is a Python keyword", f"standard library module {name!r}"))
    else:
        assert said == expected


@given(names)
@example("My--Shop..x")
def test_package_name_default_is_derived_like_asgigen(name: str) -> None:
    derived = template_says("package_name", "default", {"project_name": name})
    assert derived == naming.derive_package_name(name)


@pytest.mark.parametrize("port", [1, 80, 8000, 65535, 0, -1, 65536, True, "80", 1.5, None])
def test_port_validator_is_asgigens_rule(port: object) -> None:
    assert template_says("port", "validator", {"port": port}).strip() == naming.port_error(port)


@pytest.mark.parametrize("question", ["description", "author"])
@given(text=st.text(max_size=30) | st.text(st.sampled_from("a\n\t\r\x00\x1f\x7f\x85\x9f🚀")))
@example(text="")
@example(text="ok\n\ttabs and 🚀")
@example(text="bell\x07")
@example(text="half a pair \ud800")
def test_free_text_validators_refuse_control_characters(question: str, text: str) -> None:
    said = template_says(question, "validator", {question: text}).strip()
    assert said == free_text_rule(question, text)


def free_text_rule(question: str, text: str) -> str:
    """asgigen's rule for free text (asgigen/generate.py): Unicode, no control characters
    other than newline and tab; the message names the first offending character."""
    if any("\ud800" <= char <= "\udfff" for char in text):
        return f"answer {question!r} is not valid Unicode text"
    for char in text:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            return f"answer {question!r} contains the control character U+{ord(char):04X}"
    return ""


def test_asgigen_new_refuses_a_package_name_with_a_trailing_newline(tmp_path: Path) -> None:
    # asgigen's own check lets it through; the template's validator stops it before any file.
    request = generate.GenerateRequest(
        target=tmp_path / "demo", package="demo\n", defaults=True, interactive=False
    )
    with pytest.raises(BadInputError, match="is not a valid import name"):
        generate.new_project(request)
    assert not (tmp_path / "demo").exists()


# --- plain copier in a virtualenv of its own -------------------------------------------------

NETWORK_TROUBLE = (
    "dns error",
    "error sending request",
    "failed to lookup address",
    "connection refused",
    "network is unreachable",
    "operation timed out",
    "client error (connect)",
)


def clean_env() -> dict[str, str]:
    """This environment without anything that would let the venv see asgigen's packages."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    return {key: value for key, value in os.environ.items() if key not in drop}


@pytest.fixture(scope="session")
def plain_copier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`copier` from a virtualenv holding copier (asgigen's version) and its dependencies only."""
    from uv import find_uv_bin

    version = importlib.metadata.version("copier")
    venv = tmp_path_factory.mktemp("plain-copier") / "venv"
    uv = find_uv_bin()
    env = clean_env()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), f"copier=={version}"],
        capture_output=True,
        text=True,
        env=env,
    )
    if install.returncode != 0:
        output = install.stdout + install.stderr
        if any(trouble in output.lower() for trouble in NETWORK_TROUBLE):
            pytest.skip(
                f"the package registry is unreachable, so copier=={version} can't be "
                f"installed into a copier-only virtualenv:\n{output}"
            )
        pytest.fail(f"installing copier=={version} failed:\n{output}")
    probe = subprocess.run(
        [str(python), "-c", "import asgigen"], capture_output=True, text=True, env=env, cwd=venv
    )
    assert "No module named 'asgigen'" in probe.stderr, "the copier-only venv can import asgigen"
    return venv / "bin" / "copier"


def copier_copy(
    copier: Path, answers: dict[str, Any], destination: Path
) -> subprocess.CompletedProcess[str]:
    data_file = destination.parent / f"{destination.name}.answers.yml"
    data_file.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    command = [str(copier), "copy", "--quiet", "--defaults", "--data-file", str(data_file)]
    return subprocess.run(
        [*command, str(TEMPLATE), str(destination)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=clean_env(),
        cwd=destination.parent,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes; the answers file without the template's origin."""
    files = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if path.name == generate.ANSWERS_FILE:
            lines = content.decode("utf-8").splitlines(keepends=True)
            kept = [line for line in lines if not line.startswith(("_src_path:", "_commit:"))]
            content = "".join(kept).encode("utf-8")
        files[str(path.relative_to(root))] = content
    return files


ANSWERS = {
    "default": ("demo", {}),
    "awkward": (
        "my-shop.api",
        {
            "description": "He said \"hi\" \\ {{ x }} {% if x %} 🚀 中文 'q' `c` *b* #1\n"
            "second line\tTAB \u2028 \xa0 \U0001f600",
            "author": 'O\'Brien "Bob" \\ {{ a }} 😀',
            "python_version": "3.13",
            "port": 9001,
            "docker": False,
        },
    ),
}


@pytest.mark.e2e  # the plain_copier venv: uv creates it, copier is installed
@pytest.mark.parametrize("answers", list(ANSWERS))
@pytest.mark.parametrize("style", STYLES)
def test_plain_copier_renders_what_asgigen_new_renders(
    plain_copier: Path, tmp_path: Path, style: str, answers: str
) -> None:
    name, data = ANSWERS[answers]
    request = generate.GenerateRequest(
        target=tmp_path / "asgigen" / name,
        style=style,
        data=dict(data),
        defaults=True,
        interactive=False,
    )
    made = generate.new_project(request).path

    plain = tmp_path / "copier" / name
    plain.parent.mkdir()
    result = copier_copy(plain_copier, {"project_name": name, "style": style, **data}, plain)
    assert result.returncode == 0, result.stderr

    expected, actual = tree(made), tree(plain)
    assert sorted(actual) == sorted(expected)
    for path, content in expected.items():
        assert actual[path] == content, path


@pytest.mark.e2e  # the plain_copier venv: uv creates it, copier is installed
@pytest.mark.parametrize(
    ("answers", "question", "message"),
    [
        ({"project_name": "1shop"}, "project_name", naming.project_name_error("1shop")),
        ({"project_name": "shop!"}, "project_name", naming.project_name_error("shop!")),
        (
            {"project_name": "shop", "package_name": "class"},
            "package_name",
            naming.package_name_error("class"),
        ),
        (
            {"project_name": "json"},  # the derived package name shadows the stdlib
            "package_name",
            naming.package_name_error("json"),
        ),
        ({"project_name": "shop", "port": 70000}, "port", naming.port_error(70000)),
        ({"project_name": "shop", "port": 0}, "port", naming.port_error(0)),
        (
            {"project_name": "shop", "description": "bell\x07"},
            "description",
            "answer 'description' contains the control character U+0007",
        ),
        (
            {"project_name": "shop", "author": "nul\x00"},
            "author",
            "answer 'author' contains the control character U+0000",
        ),
    ],
)
def test_plain_copier_refuses_bad_answers_with_a_validation_error(
    plain_copier: Path, tmp_path: Path, answers: dict[str, Any], question: str, message: str
) -> None:
    assert message
    destination = tmp_path / "out"
    result = copier_copy(plain_copier, answers, destination)
    assert result.returncode != 0
    # copier's own words for a failed validator, followed by the template's reason.
    assert f"Validation error for question {question!r}: {message}" in result.stderr
    assert not destination.exists()
