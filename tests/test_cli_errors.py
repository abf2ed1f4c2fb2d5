"""Bad input: one `error:` line (maybe a `hint:`), exit code 2, and the disk unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, snapshot
from tests.template_tree import build_file_tree


def _prepare(root: Path) -> None:
    build_file_tree(
        root,
        {
            "taken/keep.txt": "mine",
            "afile": "not a dir",
            "bad.yml": "port: [unclosed\n",
            "list.yml": "- a\n- b\n",
            "unknown.yml": "colour: blue\n",
            "badtype.json": '{"port": "eighty"}',
        },
    )
    (root / "binary.yml").write_bytes(b"\xff\xfe\x00")


# (argv after `asgigen`, exact error line, hint fragment or None)
CASES: list[tuple[list[str], str, str | None]] = [
    (
        ["new", "shop", "--style", "django"],
        "error: answer 'style' must be one of raw, routed, fastapi; got 'django'",
        None,
    ),
    (["new", "1shop"], "error: project name '1shop' starts with a digit", None),
    (
        ["new", "shop!"],
        "error: project name 'shop!' may only contain ASCII letters, digits, "
        "'-', '_' and '.', starting with a letter and ending with a letter or digit",
        None,
    ),
    (
        ["new", "café"],
        "error: project name 'café' may only contain ASCII letters, digits, "
        "'-', '_' and '.', starting with a letter and ending with a letter or digit",
        None,
    ),
    (
        ["new", "shop-"],
        "error: project name 'shop-' may only contain ASCII letters, digits, "
        "'-', '_' and '.', starting with a letter and ending with a letter or digit",
        None,
    ),
    (
        ["new", "asyncio"],
        "error: package name 'asyncio' would shadow the standard library "
        "module 'asyncio' (derived from the project name)",
        "--package",
    ),
    (
        ["new", "fastapi", "--style", "fastapi"],
        "error: package name 'fastapi' would shadow the "
        "package 'fastapi' the project depends on (derived from the project name)",
        "--package",
    ),
    (
        ["new", "test"],
        "error: package name 'test' is reserved for the project layout "
        "(derived from the project name)",
        "--package",
    ),
    (
        ["new", "class"],
        "error: package name 'class' is a Python keyword (derived from the project name)",
        "--package",
    ),
    (
        ["new", "shop", "--package", "Shop"],
        "error: package name 'Shop' is not a valid import "
        "name (lowercase ASCII letters, digits and '_', not starting with a digit)",
        None,
    ),
    (
        ["new", "shop", "--package", "my-shop"],
        "error: package name 'my-shop' is not a valid "
        "import name (lowercase ASCII letters, digits and '_', not starting with a digit)",
        None,
    ),
    (
        ["new", "shop", "--package", "json"],
        "error: package name 'json' would shadow the standard library module 'json'",
        None,
    ),
    (
        ["new", "shop", "--package", "9lives"],
        "error: package name '9lives' starts with a digit",
        None,
    ),
    (["new", "shop", "--package", ""], "error: the package name is empty", None),
    (["new", "taken"], "error: directory {root}/taken already exists and is not empty", "--force"),
    (["new", "afile"], "error: {root}/afile exists and is not a directory", None),
    (
        ["new", "afile/inner"],
        "error: {root}/afile is a file, so {root}/afile/... cannot be created",
        None,
    ),
    # ".." is the parent directory, which holds our working directory: not empty.
    (["new", ".."], "error: directory {parent} already exists and is not empty", "--force"),
    (["new", "shop", "--data", "port"], "error: --data 'port' is not KEY=VALUE", "port=9000"),
    (["new", "shop", "--data", "=1"], "error: --data '=1' is not KEY=VALUE", "port=9000"),
    (["new", "shop", "--data", "colour=blue"], "error: unknown question 'colour'", "style"),
    (
        ["new", "shop", "--data", "port=eighty"],
        "error: answer 'port' must be a whole number, got 'eighty'",
        None,
    ),
    (["new", "shop", "--data", "port=0"], "error: port 0 is out of range (1-65535)", None),
    (["new", "shop", "--data", "port=70000"], "error: port 70000 is out of range (1-65535)", None),
    (
        ["new", "shop", "--data", "python_version=2.7"],
        "error: answer 'python_version' must be one of 3.11, 3.12, 3.13; got '2.7'",
        None,
    ),
    (
        ["new", "shop", "--data", "docker=maybe"],
        "error: answer 'docker' must be true or false, got 'maybe'",
        None,
    ),
    (
        ["new", "shop", "--data", "project_name=other"],
        "error: --data project_name=other disagrees with the target 'shop'",
        "last component",
    ),
    (
        ["new", "shop", "--data-file", "missing.yml"],
        "error: cannot read data file missing.yml: No such file or directory",
        None,
    ),
    (
        ["new", "shop", "--data-file", "bad.yml"],
        "error: data file bad.yml is not valid YAML or JSON (line 2)",
        None,
    ),
    (
        ["new", "shop", "--data-file", "list.yml"],
        "error: data file list.yml must hold a mapping of question names to answers",
        None,
    ),
    (["new", "shop", "--data-file", "unknown.yml"], "error: unknown question 'colour'", "style"),
    (
        ["new", "shop", "--data-file", "badtype.json"],
        "error: answer 'port' must be a whole number, got 'eighty'",
        None,
    ),
    (
        ["new", "shop", "--data-file", "binary.yml"],
        "error: data file binary.yml is not UTF-8 text",
        None,
    ),
    (
        ["new", "shop", "--description", "bell\x07"],
        "error: answer 'description' contains the control character U+0007",
        None,
    ),
    (
        ["new", "shop", "--data", "author=a\x85b"],
        "error: answer 'author' contains the control character U+0085",
        None,
    ),
    (["check", "nowhere"], "error: {root}/nowhere is not a directory", None),
    (
        ["check", "taken"],
        "error: {root}/taken is not a Python project (it has no pyproject.toml, setup.py or "
        "requirements file, nor a subfolder that has one)",
        "pyproject.toml",
    ),
    (
        ["check", "afile"],
        "error: {root}/afile is not a directory",
        None,
    ),
    (["check", ".", "--server", "tornado"], "error: unknown server 'tornado'", "granian"),
]


@pytest.mark.parametrize(("argv", "message", "hint"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input(
    run_cli: Callable[..., CliResult],
    workdir: Path,
    argv: list[str],
    message: str,
    hint: str | None,
) -> None:
    _prepare(workdir)
    if argv[:1] == ["check"] and argv[1] == ".":
        project = build_file_tree(
            workdir / "proj",
            {"src/proj/app.py": "app = None\n", "pyproject.toml": '[project]\nname = "proj"\n'},
        )
        argv = ["check", str(project), *argv[2:]]
    before = snapshot(workdir)
    result = run_cli(*argv, cwd=workdir)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert lines[0] == message.format(root=workdir, parent=workdir.parent)
    if hint is None:
        assert len(lines) == 1, lines
    else:
        assert len(lines) == 2, lines
        assert lines[1].startswith("hint: ")
        assert hint in lines[1]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert snapshot(workdir) == before


# A contract that cannot be read: (pyproject.toml after [project], exact error, hint or None).
# `check` says what is wrong and where before it builds or starts anything.
WHERE = "error: proj: pyproject.toml [tool.asgigen]"
CONTRACTS: list[tuple[str, str, str | None]] = [
    (
        '[tool.asgigen]\napp = "proj"\n',
        f"{WHERE}: app = 'proj' is not 'module:attribute'",
        'app = "mypkg.app:app"',
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app:x"\n',
        f"{WHERE}: app = 'proj.app:app:x' is not 'module:attribute'",
        "for example",
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\nrun = ["python", "-m", "proj"]\n',
        f"{WHERE}: run needs host-env and port-env, the variables it reads for its address",
        "free port",
    ),
    (
        '[tool.asgigen]\nrun = "python -m proj"\nhost-env = "PROJ_HOST"\n',
        f"{WHERE}: run needs host-env and port-env, the variables it reads for its address",
        "free port",
    ),
    (
        '[tool.asgigen]\nready = "/"\n',
        f"{WHERE} declares neither app nor run, so there is nothing to boot",
        'app = "yourpkg.module:app"',
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\n\n[[tool.asgigen.http]]\npath = "/"\nstauts = 201\n',
        f"{WHERE}: http[0]: unknown key 'stauts'",
        "known keys: ",
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\n\n[[tool.asgigen.http]]\npath = "/"\n'
        '\n[[tool.asgigen.http]]\npath = "/x"\nstatus = 999\n',
        f"{WHERE}: http[1]: status must be an HTTP status code, got 999",
        None,
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\n\n[[tool.asgigen.http]]\npath = "/"\n'
        'status = "200"\n',
        f"{WHERE}: http[0]: status must be an HTTP status code, got '200'",
        None,
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\n\n[[tool.asgigen.http]]\npath = "health"\n',
        f"{WHERE}: http[0]: path must be a path starting with '/', got 'health'",
        None,
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\n\n[[tool.asgigen.http]]\nmethod = "FETCH"\n'
        'path = "/"\n',
        f"{WHERE}: http[0]: method 'FETCH' is not one of ",
        None,
    ),
    (
        '[tool.asgigen]\napp = "proj.app:app"\nhttp = { path = "/" }\n',
        f"{WHERE}: http must be an array of tables ([[tool.asgigen.http]])",
        None,
    ),
    (
        "[tool.asgigen\n",
        "error: {project}/pyproject.toml: not valid TOML at line 4, column 14: Expected ']' at "
        "the end of a table declaration",
        "fix line 4 of pyproject.toml",
    ),
]


@pytest.mark.parametrize(
    ("toml", "message", "hint"), CONTRACTS, ids=[c[1].split(": ", 2)[-1] for c in CONTRACTS]
)
def test_a_bad_contract_is_one_line_before_anything_runs(
    run_cli: Callable[..., CliResult],
    workdir: Path,
    toml: str,
    message: str,
    hint: str | None,
) -> None:
    project = build_file_tree(
        workdir / "proj",
        {
            "src/proj/app.py": "app = None\n",
            "pyproject.toml": '[project]\nname = "proj"\n\n' + toml,
        },
    )
    before = snapshot(workdir)
    result = run_cli("check", str(project), cwd=workdir)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert lines[0].startswith(message.format(project=project)), lines
    if message.endswith(": ") or message.endswith(" of "):
        assert len(lines[0]) > len(message.format(project=project))
    else:
        assert lines[0] == message.format(project=project)
    if hint is None:
        assert len(lines) == 1, lines
    else:
        assert len(lines) == 2, lines
        assert lines[1].startswith("hint: ")
        assert hint in lines[1]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert snapshot(workdir) == before


def test_a_bad_standalone_contract_names_its_file(
    run_cli: Callable[..., CliResult], workdir: Path
) -> None:
    project = build_file_tree(
        workdir / "proj",
        {"pyproject.toml": '[project]\nname = "proj"\n', "asgigen.toml": 'app = "proj"\n'},
    )
    result = run_cli("check", str(project), cwd=workdir)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: proj: asgigen.toml: app = 'proj' is not 'module:attribute'"
    )


def test_usage_error_exits_2(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("new")
    assert result.exit_code == 2
    assert "missing argument 'path'" in result.stderr.lower()


def test_unknown_command_exits_2(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr
