"""What the check environment installs, as asgigen/requirements.py decides it: which
requirements, extras and groups, at which versions. Each decision is tested both ways; these
are the unit tests scripts/mutate_decisions.py runs against its mutants (docs/mutation.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from asgigen import environments
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.requirements import (
    Requirements,
    dependency_group,
    mentions,
    poetry_constraint,
    poetry_requirement,
    python_markers,
    read_requirement_file,
    read_requirements,
    requirement_files,
)


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read(root: Path, pyproject: str, **files: str) -> Requirements:
    return read_requirements(write(root, {"pyproject.toml": pyproject, **files}))


# --- PEP 621 and PEP 735


def test_every_test_set_is_installed_as_an_extra_or_a_group(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = ["starlette"]\n'
        '[project.optional-dependencies]\ntests = ["pytest"]\ntesting = ["httpx"]\n'
        'dev = ["ruff"]\ndocs = ["mkdocs"]\n'
        '[dependency-groups]\ntest = ["hypothesis"]\ntesting = ["anyio"]\nlint = ["mypy"]\n',
    )
    assert found.runtime == ["starlette"]
    assert found.test == ["hypothesis", "pytest", "httpx", "anyio"]  # TEST_SETS' order
    assert found.dev == ["ruff"]  # not a test set; no other extra or group is installed
    assert found.test_extras == ["tests", "testing"]  # extras only: groups are not extras
    assert found.sources == [
        "pyproject.toml [project] + group test (PEP 735) + extra tests + extra testing"
        " + group testing (PEP 735) + extra dev"
    ]
    assert found.found


def test_a_dev_group_holding_pytest_beside_a_test_extra_without_it_stays_for_the_gates(
    tmp_path: Path,
) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[project.optional-dependencies]\ntest = ["pytest-asyncio"]\n'
        '[dependency-groups]\ndev = ["PyTest>=8", "ruff"]\n',
    )
    assert found.test == ["pytest-asyncio", "PyTest>=8", "ruff"]  # no test runner: moved over
    assert found.dev == []
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
        '[dependency-groups]\ndev = ["pytest", "ruff"]\n',
    )
    assert (found.test, found.dev) == (["pytest"], ["pytest", "ruff"])


def test_groups_alone_are_read_without_dependencies_or_extras(tmp_path: Path) -> None:
    found = read(tmp_path, '[project]\nname = "a"\n[dependency-groups]\ntest = ["pytest"]\n')
    assert (found.runtime, found.test) == ([], ["pytest"])
    assert found.sources == ["pyproject.toml [project] + group test (PEP 735)"]
    found = read(tmp_path, '[project]\nname = "a"\n[project.optional-dependencies]\ntest = ["x"]\n')
    assert (found.test, found.test_extras) == (["x"], ["test"])


def test_a_project_table_for_metadata_only_is_no_source(tmp_path: Path) -> None:
    found = read(tmp_path, '[project]\nname = "a"\nversion = "1.2"\nrequires-python = ">=3.11"\n')
    assert (found.name, found.version, found.requires_python) == ("a", "1.2", ">=3.11")
    assert found.sources == []
    assert not found.found
    found = read(tmp_path, "[project]\nname = 1\nversion = 2\nrequires-python = 3\n")
    assert (found.name, found.version, found.requires_python) == (None, None, None)
    assert not read(tmp_path, 'project = "a"\n').found


def test_a_self_reference_installs_the_extras_it_names(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "My_Shop"\ndependencies = ["my-shop[db,cache]"]\n'
        "[project.optional-dependencies]\n"
        'db = ["sqlalchemy", "my.shop[cache]"]\ncache = ["redis", "my_shop[db]"]\n'
        'test = ["pytest", "other[db]"]\n',
    )
    # Extras in name order, each expanded once along a path: the cycle ends.
    assert found.runtime == ["redis", "sqlalchemy", "sqlalchemy", "redis"]
    assert found.test == ["pytest", "other[db]"]  # another project's extras are its own
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = ["a[x]", "b", "a"]\n'
        '[project.optional-dependencies]\nx = ["c"]\n',
    )
    assert found.runtime == ["c", "b"]  # what follows a self-reference is read too


def test_without_a_name_a_requirement_is_never_the_project_itself(tmp_path: Path) -> None:
    found = read(
        tmp_path, '[project]\ndependencies = ["a[x]"]\n[project.optional-dependencies]\nx = ["b"]\n'
    )
    assert found.runtime == ["a[x]"]


def test_requirements_are_installed_as_packaging_writes_them(tmp_path: Path) -> None:
    found = read(
        tmp_path, '[project]\nname = "a"\ndependencies = ["Foo >= 1.0 ; python_version>\'3\'"]\n'
    )
    assert found.runtime == ['Foo>=1.0; python_version > "3"']


def test_an_invalid_requirement_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"invalid requirement 'not a requirement!'"):
        read(tmp_path, '[project]\nname = "a"\ndependencies = ["not a requirement!"]\n')


def test_include_group_is_followed_and_cycles_end() -> None:
    groups = {
        "test": ["pytest", {"include-group": "typing"}, 3, {"other": "x"}],
        "typing": ["mypy", {"include-group": "test"}, {"include-group": "missing"}],
    }
    assert dependency_group(groups, "test") == ["pytest", "mypy"]  # not a list or a table: no
    assert dependency_group(groups, "typing") == ["mypy", "pytest"]
    assert dependency_group(groups, "missing") == []
    assert dependency_group({"a": ["x", {"include-group": "a"}]}, "a") == ["x"]


def test_an_include_group_reaches_the_environment(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "a"\ndependencies = ["starlette"]\n'
            '[dependency-groups]\ntest = [{include-group = "base"}, "pytest"]\n'
            'base = ["httpx"]\n'
        },
    )
    _, packages = environments.needed(tmp_path, tools=[], servers=["uvicorn"])
    assert packages == ["starlette", "httpx", "pytest", "uvicorn"]


# --- PDM and uv's legacy dev-dependencies


def test_pdm_groups_are_installed_always_and_named(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[tool.pdm.dev-dependencies]\nlint = ["ruff", "-e ./sub"]\ntest = ["pytest"]\n',
    )
    assert found.test == ["ruff", "pytest"]
    assert found.sources[1:] == ["pdm group lint", "pdm group test"]
    found = read(
        tmp_path, '[project]\nname = "a"\ndependencies = []\n[tool.pdm]\ndev-dependencies = {}\n'
    )
    assert found.sources == ["pyproject.toml [project]"]


def test_uv_legacy_dev_dependencies_must_be_a_non_empty_list(tmp_path: Path) -> None:
    found = read(
        tmp_path, '[project]\nname = "a"\ndependencies = []\n[tool.uv]\ndev-dependencies = []\n'
    )
    assert found.sources == ["pyproject.toml [project]"]
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n[tool.uv]\ndev-dependencies = "pytest"\n',
    )
    assert found.test == []


# --- Poetry


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("", ""),
        ("  ^1.2  ", ">=1.2,<2.0"),
        ("=1.2", "==1.2"),
        ("==1.2", "==1.2"),
        ("!=1.2", "!=1.2"),
        ("~=1.2", "~=1.2"),
        ("<=2", "<=2"),
        (">1", ">1"),
        ("< 2", "<2"),
        ("^0", ">=0,<1"),
        ("^0.0", ">=0.0,<0.1"),
        ("^1.2.3-beta.1", ">=1.2.3-beta.1,<2.0.0"),
        ("^1.2-beta.1", ">=1.2-beta.1,<2.0"),  # the pre-release's number is no part
        ("~0.5.1", ">=0.5.1,<0.6.0"),
        ("^1.2.3.4", ">=1.2.3.4,<2.0.0"),
        (">=1, <2, !=1.5", ">=1,<2,!=1.5"),
        (">=1,<2 !=1.5", ">=1,<2,!=1.5"),
    ],
)
def test_more_poetry_constraints(constraint: str, specifier: str) -> None:
    assert poetry_constraint(constraint) == specifier


def test_poetry_alternatives_are_refused_saying_why() -> None:
    with pytest.raises(BadInputError) as caught:
        poetry_constraint("^1.0 || ^2.0")
    assert caught.value.message == (
        "Poetry constraint '^1.0 || ^2.0': alternatives (||) have no PEP 440 form"
    )


@pytest.mark.parametrize("constraint", ["abc", "^x", ">= ", "1.2 3"])
def test_a_poetry_constraint_asgigen_cannot_read_is_refused(constraint: str) -> None:
    with pytest.raises(BadInputError, match="is not one asgigen can read"):
        poetry_constraint(constraint)


def test_poetry_requirements_of_every_form() -> None:
    assert poetry_requirement("a", "^1") == ["a>=1,<2"]
    assert poetry_requirement("a", "*") == ["a"]
    assert poetry_requirement("a", {}) == ["a"]
    assert poetry_requirement("a", 3) == []
    assert poetry_requirement("a", {"version": "1", "optional": False}) == ["a==1"]
    assert poetry_requirement("a", [{"version": "1", "python": "<3.11"}, "2"]) == [
        "a==1 ; (python_full_version < '3.11')",
        "a==2",
    ]
    assert poetry_requirement("a", {"extras": ["x", "y"]}) == ["a[x,y]"]
    assert poetry_requirement("a", {"git": "https://g/a.git"}) == ["a @ git+https://g/a.git"]
    for ref in ("rev", "tag", "branch"):
        assert poetry_requirement("a", {"git": "https://g/a.git", ref: "v1"}) == [
            "a @ git+https://g/a.git@v1"
        ]
    assert poetry_requirement("a", {"git": "u", "rev": "r", "tag": "t", "branch": "b"}) == [
        "a @ git+u@r"
    ]
    assert poetry_requirement("a", {"git": "u", "tag": "t", "branch": "b"}) == ["a @ git+u@t"]
    assert poetry_requirement("a", {"url": "https://x/a.whl", "extras": ["e"]}) == [
        "a[e] @ https://x/a.whl"
    ]
    assert poetry_requirement("a", {"path": "/abs/a"}) == ["a @ file:///abs/a"]
    assert poetry_requirement("a", {"version": "1", "markers": "os_name == 'nt'"}) == [
        "a==1 ; (os_name == 'nt')"
    ]
    assert poetry_requirement("a", {"markers": "m", "python": "~3.10"}) == [
        "a ; (m) and (python_full_version >= '3.10') and (python_full_version < '3.11')"
    ]


def test_python_markers_for_each_operator() -> None:
    assert python_markers("^3.10") == [
        "python_full_version >= '3.10'",
        "python_full_version < '4.0'",
    ]
    assert python_markers("!=3.9,<=3.12,>3.8,==3.11") == [
        "python_full_version != '3.9'",
        "python_full_version <= '3.12'",
        "python_full_version > '3.8'",
        "python_full_version == '3.11'",
    ]
    assert python_markers("~=3.10") == ["python_full_version ~= '3.10'"]
    assert python_markers("*") == []


def test_poetry_names_the_project_and_its_python(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[tool.poetry]\nname = "app"\nversion = "2.0"\n'
        '[tool.poetry.dependencies]\npython = ">=3.9"\nfastapi = "*"\n'
        '[tool.poetry.group.lint.dependencies]\nruff = "*"\n'
        '[tool.poetry.dev-dependencies]\npytest = "*"\nhttpx = "*"\n',
    )
    assert (found.name, found.version, found.requires_python) == ("app", "2.0", ">=3.9")
    assert (found.runtime, found.test) == (["fastapi"], ["ruff", "pytest", "httpx"])
    assert found.sources == ["poetry (1 dependencies, group lint, dev-dependencies)"]


def test_a_project_table_keeps_its_own_name_and_python_over_poetry(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "mine"\nversion = "1"\nrequires-python = ">=3.11"\n'
        '[tool.poetry]\nname = "app"\nversion = "2.0"\n'
        '[tool.poetry.dependencies]\npython = "*"\nfastapi = "*"\n',
    )
    assert (found.name, found.version, found.requires_python) == ("mine", "1", ">=3.11")
    found = read(
        tmp_path,
        '[tool.poetry]\nname = "app"\nversion = 2\n[tool.poetry.dependencies]\npython = "*"\n',
    )
    assert (found.name, found.version, found.requires_python) == ("app", None, None)
    assert found.sources == ["poetry (0 dependencies)"]
    found = read(tmp_path, '[tool.poetry]\nname = 1\n[tool.poetry.dependencies]\nx = "*"\n')
    assert found.name is None


def test_poetry_groups_installed_by_default_and_those_left_out(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[tool.poetry]\nname = "app"\n'
        '[tool.poetry.group.lint.dependencies]\nruff = "*"\nblack = "*"\n'
        "[tool.poetry.group.docs]\noptional = true\n"
        '[tool.poetry.group.docs.dependencies]\nmk = "*"\n'
        "[tool.poetry.group.empty]\n"
        "[tool.poetry.group.typing]\noptional = false\n"
        '[tool.poetry.group.typing.dependencies]\nmypy = "*"\n',
    )
    assert (found.runtime, found.test) == ([], ["ruff", "black", "mypy"])
    assert found.sources == ["poetry (0 dependencies, group lint, empty, typing)"]
    assert not read(tmp_path, '[tool.poetry]\nname = "app"\nversion = "1"\n').found


def test_a_poetry_group_that_is_not_a_table_is_left_out(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[tool.poetry]\nname = "app"\n[tool.poetry.dependencies]\nx = "*"\n'
        '[tool.poetry.group]\nweird = "yes"\n',
    )
    assert found.sources == ["poetry (1 dependencies)"]


# --- poetry.lock, pdm.lock


def test_a_pdm_lock_pins_runtime_test_and_dev_in_their_places(tmp_path: Path) -> None:
    lock = (
        '[[package]]\nname = "Starlette"\nversion = "0.41.0"\n\n'
        '[[package]]\nname = "pytest"\nversion = "8.3.5"\n\n'
        '[[package]]\nname = "ruff"\nversion = "0.9.0"\n\n'
        '[[package]]\nname = "httpx"\nversion = "0.28.0rc1"\n\n'
        '[[package]]\nname = "pkg"\nversion = "1.0"\n\n'
        '[[package]]\nname = "noversion"\n\n'
        "[[package]]\n"
        'version = "1.0"\n'
    )
    found = read(
        tmp_path,
        '[project]\nname = "a"\n'
        "dependencies = [\"starlette[full]>=0.40; python_version >= '3.8'\",\n"
        '  "pkg @ https://x/pkg.whl", "noversion", "httpx>=0.27"]\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
        '[dependency-groups]\ndev = ["ruff<1"]\n',
        **{"pdm.lock": lock},
    )
    assert found.runtime == [
        'starlette[full]==0.41.0 ; python_version >= "3.8"',
        "pkg @ https://x/pkg.whl",  # a URL stays what it is
        "noversion",
        "httpx==0.28.0rc1",  # a pre-release the lock chose is pinned too
    ]
    assert found.test == ["pytest==8.3.5"]
    assert found.dev == ["ruff==0.9.0"]
    assert found.sources[-1] == "pinned by pdm.lock"


def test_extras_are_pinned_in_order(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = ["uvicorn[standard,b]"]\n',
        **{"poetry.lock": '[[package]]\nname = "uvicorn"\nversion = "0.30.0"\n'},
    )
    assert found.runtime == ["uvicorn[b,standard]==0.30.0"]


def test_a_lock_without_a_source_to_pin_pins_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"poetry.lock": '[[package]]\nname = "x"\nversion = "1"\n'})
    assert read_requirements(tmp_path).sources == []


def test_a_lock_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"poetry\.lock: not valid TOML at"):
        read(tmp_path, '[project]\nname = "a"\ndependencies = ["x"]\n', **{"poetry.lock": "[["})


def test_poetry_lock_wins_over_pdm_lock(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = ["x"]\n',
        **{
            "poetry.lock": '[[package]]\nname = "x"\nversion = "1"\n',
            "pdm.lock": '[[package]]\nname = "x"\nversion = "2"\n',
        },
    )
    assert found.runtime == ["x==1"]


def test_a_pyproject_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"pyproject\.toml: not valid TOML at"):
        read(tmp_path, "[project\n")


# --- requirements files


def test_requirements_files_where_they_are_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "a\n",
            "requirements-test.in": "b\n",
            "requirements/base.in": "c\n",
            "requirements/base.txt": "c==1\n",
            "requirements/dev.in": "d\n",
            "requirements.md": "not one\n",
            "other.txt": "not one\n",
        },
    )
    (tmp_path / "requirements-old.txt").mkdir()
    assert [str(p.relative_to(tmp_path)) for p in requirement_files(tmp_path)] == [
        "requirements/base.txt",  # its .in is compiled: the .txt replaces it
        "requirements/dev.in",
        "requirements-test.in",
        "requirements.txt",
    ]


def test_runtime_and_test_files_by_their_names(tmp_path: Path) -> None:
    files = {
        "requirements/base.txt": "b\n",
        "requirements/prod.txt": "p\n",
        "requirements/production.txt": "pp\n",
        "requirements/test.txt": "t\n",
        "requirements.txt": "r\n",
        "requirements-dev.txt": "d\n",
    }
    found = read_requirements(write(tmp_path, files))
    assert found.runtime == ["b", "p", "pp", "r"]
    assert found.test == ["t", "d"]
    assert found.sources == [
        "requirements/base.txt, requirements/prod.txt, requirements/production.txt, "
        "requirements/test.txt, requirements-dev.txt, requirements.txt"
    ]


def test_what_a_requirements_file_lists(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": (
                "# a comment\n\n"
                "a==1  # why\n"
                "b#egg\n"
                "c \\\n  >=2\n"
                "d==1 --hash=sha256:x\n"
                "--requirement=more.txt\n"
                "--requirement more.txt\n"
                "-r   sub/more.txt\n"
                "-c constraints.txt\n--index-url https://x\n"
                ".\n./\n./local\n-e .\n"
                "requirements.txt\n"
            ),
            "more.txt": "m\n-r requirements.txt\n",
            "sub/more.txt": "s\n",
        },
    )
    assert read_requirement_file(tmp_path / "requirements.txt") == [
        "a==1",
        "b#egg",
        "c   >=2",
        "d==1",
        "m",
        "m",
        "s",
        "requirements.txt",
    ]


def test_an_unreadable_requirements_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "-r missing.txt\n"})
    with pytest.raises(BadInputError, match=r"missing\.txt cannot be read"):
        read_requirements(tmp_path)
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(BadInputError, match=r"requirements\.txt cannot be read"):
        read_requirements(tmp_path)


# --- the test runner and the dev set


def test_mentions_compares_canonical_names() -> None:
    assert mentions(["PyTest>=8"], ("pytest",))
    assert mentions(["pytest_asyncio", "py.test"], ("py-test",))
    assert not mentions(["pytest-asyncio"], ("pytest",))
    assert not mentions(["not valid!", "x"], ("pytest",))
    assert mentions(["not valid!", "pytest"], ("pytest",))
    assert not mentions([], ("pytest",))


def test_dev_holding_pytest_is_installed_for_the_tests_only_when_no_test_set_has_it(
    tmp_path: Path,
) -> None:
    dev_only = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[project.optional-dependencies]\ndev = ["pytest", "ruff"]\n',
    )
    assert (dev_only.test, dev_only.dev) == (["pytest", "ruff"], [])
    lint_only = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[project.optional-dependencies]\ndev = ["ruff"]\n',
    )
    assert (lint_only.test, lint_only.dev) == ([], ["ruff"])


def test_uv_legacy_dev_dependencies_add_to_the_test_set(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n[project.optional-dependencies]\n'
        'test = ["pytest"]\n[tool.uv]\ndev-dependencies = ["httpx"]\n',
    )
    assert found.test == ["pytest", "httpx"]


def test_pdm_dev_dependencies_that_are_not_a_table_are_left_out(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n[tool.pdm]\ndev-dependencies = ["pytest"]\n',
    )
    assert (found.test, found.sources) == ([], ["pyproject.toml [project]"])


# --- uv.lock (last: each runs uv)


def locked(root: Path, pyproject: str) -> Path:
    write(root, {"pyproject.toml": pyproject})
    lock = subprocess.run(
        [environments.uv_binary(), "lock", "--quiet", "--offline"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if lock.returncode != 0:
        subprocess.run([environments.uv_binary(), "lock", "--quiet"], cwd=root, check=True)
    return root


def test_a_uv_lock_pins_the_test_extra_and_test_and_dev_groups(tmp_path: Path) -> None:
    root = locked(
        tmp_path,
        '[project]\nname = "locked"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["idna"]\n[project.optional-dependencies]\ntest = ["pytest"]\n'
        'other = ["six"]\n[dependency-groups]\ntests = ["h11"]\ndev = ["sniffio"]\n'
        'docs = ["certifi"]\n',
    )
    found = read_requirements(root)
    runtime = sorted(line.split("==")[0] for line in found.runtime)
    test = sorted(line.split("==")[0] for line in found.test)
    # The run-time pins are the lock's without extras or groups; the test set is what the
    # test extra and the test and dev groups add to them (none of these needs another).
    assert runtime == ["idna"]
    assert {"pytest", "h11", "sniffio"} <= set(test)
    assert "idna" not in test
    everything = set(runtime) | set(test)
    assert not {"six", "certifi"} & everything  # an extra and a group that are not test sets
    assert all("==" in line for line in [*found.runtime, *found.test])
    pins = [*found.runtime, *found.test]
    assert not any(line.startswith(("#", "-e", ".", "locked")) for line in pins)
    assert (found.dev, found.locked) == ([], True)
    assert found.sources == [
        "uv.lock (for pyproject.toml [project] + extra test + group tests (PEP 735)"
        " + group dev (PEP 735))"
    ]


def test_a_uv_lock_that_cannot_be_read_fails_with_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "a"\nversion = "0"\ndependencies = ["idna"]\n',
            "uv.lock": "version = 1\n[[package]]\nname = 3\n",
        },
    )
    with pytest.raises(CheckFailedError) as caught:
        read_requirements(tmp_path)
    last = caught.value.details.strip().splitlines()[-1]  # uv's own reason, on one line
    assert caught.value.message == f"uv.lock cannot be read: {last}"
    assert caught.value.hint == f"cd {tmp_path} && uv lock"


def test_a_uv_lock_without_a_project_table_is_not_read(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        '[tool.poetry]\nname = "a"\n[tool.poetry.dependencies]\nidna = "*"\n',
        **{"uv.lock": "garbage"},
    )
    assert (found.runtime, found.locked) == (["idna"], False)


def test_a_uv_lock_is_not_pinned_again_by_a_poetry_lock(tmp_path: Path) -> None:
    root = locked(
        tmp_path,
        '[project]\nname = "locked"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["idna"]\n',
    )
    write(root, {"poetry.lock": '[[package]]\nname = "idna"\nversion = "0.1"\n'})
    found = read_requirements(root)
    assert found.sources[-1].startswith("uv.lock")
    assert not any(line == "idna==0.1" for line in found.runtime)


def test_a_uv_lock_leaves_out_the_path_dependencies_it_exports(tmp_path: Path) -> None:
    sub = '[project]\nname = "{}"\nversion = "0.1"\ndependencies = []\n'
    write(
        tmp_path, {"one/pyproject.toml": sub.format("one"), "two/pyproject.toml": sub.format("two")}
    )
    root = locked(
        tmp_path,
        '[project]\nname = "top"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["idna", "one", "two"]\n[tool.uv.sources]\n'
        'one = { path = "one", editable = true }\ntwo = { path = "two" }\n',
    )
    found = read_requirements(root)  # uv exports them as `-e ./one` and `./two`
    assert [line.split("==")[0] for line in found.runtime] == ["idna"]


def test_a_uv_lock_of_a_project_declaring_nothing_else_is_the_source(tmp_path: Path) -> None:
    root = locked(tmp_path, '[project]\nname = "bare"\nversion = "0"\nrequires-python = ">=3.10"\n')
    found = read_requirements(root)
    assert (found.sources, found.runtime, found.locked) == (["uv.lock"], [], True)


def test_uv_export_runs_in_the_users_environment_less_a_foreign_virtualenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own uv settings (UV_* variables) apply, as to their `uv export`; the
    virtualenv asgigen may run in is not the project's, so uv is not told about it."""
    seen: dict[str, str] = {}

    def export(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
        env = options["env"]
        assert isinstance(env, dict)
        seen.update(env)
        return subprocess.CompletedProcess(command, 0, "idna==3.10\n", "")

    monkeypatch.setattr(subprocess, "run", export)
    monkeypatch.setenv("UV_SOMETHING", "kept")
    monkeypatch.setenv("VIRTUAL_ENV", "/elsewhere/.venv")
    monkeypatch.setenv("VIRTUAL_ENV_PROMPT", "elsewhere")
    found = read(tmp_path, '[project]\nname = "a"\ndependencies = ["idna"]\n', **{"uv.lock": ""})
    assert found.runtime == ["idna==3.10"]
    assert seen["UV_SOMETHING"] == "kept"
    assert "PATH" in seen
    assert not [name for name in seen if name.startswith("VIRTUAL_ENV")]
