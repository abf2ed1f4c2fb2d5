"""What a project installs, read the way its own tooling reads it.

One project's requirements come from, in this order (the first that applies wins where two
describe the same thing):

1. `uv.lock` beside a `[project]` table: the lock is honoured (`uv export --frozen`), so the
   check runs on the versions the project pinned. A `poetry.lock` or `pdm.lock` pins the
   direct requirements read from 2-4 to the versions it records.
2. `[project]` (PEP 621): `dependencies`, the test extra (`test`, `tests`, `testing`); and
   PEP 735 `[dependency-groups]` (`include-group` resolved) for the same names.
3. `[tool.poetry]`: `dependencies`, every group Poetry installs by default (the non-optional
   ones) and the legacy `dev-dependencies`. Poetry's constraints (`^1.2`, `~1.2`, `1.2.*`,
   tables with `version`/`extras`/`markers`/`python`) are translated here rather than by
   installing Poetry and running its export: the translation is a few documented rules
   (https://python-poetry.org/docs/dependency-specification/), needs no network and no
   second resolver, and its result is what uv installs.
4. `[tool.pdm.dev-dependencies]` and `[tool.uv] dev-dependencies`: the development groups of
   PDM and of uv before PEP 735, installed as their tools install them (always).
5. `requirements*.txt`, `requirements*.in` and `requirements/*.txt|in` (a compiled `.txt`
   wins over its `.in`), `-r` includes followed.

The `dev` set (a `dev` extra or group) holds linters and stubs in most projects, and is
installed for the gates; it is installed always when it holds the project's test runner
(pytest) and no test set does, since without it the tests cannot run. A Poetry or PDM group
and every requirements file are installed always: that is what `poetry install`, `pdm
install` and `pip install -r` do.

`runtime` is what an install of the project brings (`pip install .`): PEP 621 `dependencies`,
Poetry's main group, requirements files whose name says nothing of development
(`requirements.txt`, `base.txt`; not `requirements-dev.txt`, `test.in`), and from a uv.lock
the pins `uv export --no-default-groups` gives without extras. Servers boot with those alone; the
test and dev sets (and where each name came from, `where_declared`) are for tests and gates.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen.errors import BadInputError, CheckFailedError
from asgigen.pyproject_file import PyprojectFile, read_pyproject, read_toml

# Extras and dependency groups that hold a project's test requirements, most usual first.
TEST_SETS = ("test", "tests", "testing")
DEV_SETS = ("dev",)
TEST_RUNNERS = ("pytest",)


@dataclass
class Requirements:
    """What a project asks to have installed, and where that was read."""

    name: str | None
    requires_python: str | None
    runtime: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    dev: list[str] = field(default_factory=list)
    test_extras: list[str] = field(default_factory=list)  # of TEST_SETS, the extras it has
    sources: list[str] = field(default_factory=list)  # "pyproject.toml [project]", ...
    locked: bool = False  # runtime and test are the pinned versions of a lock file
    version: str | None = None  # the project's own static version, when it declares one
    # Canonical name of each test or dev requirement -> where it is declared ("the 'test'
    # extra"), so a boot that misses one can say where it is.
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.sources)

    def describe(self) -> str:
        """One line: where the dependencies came from and how many there are."""
        count = len(dict.fromkeys([*self.runtime, *self.test]))
        return f"{' + '.join(self.sources)}: {count} package(s)"

    def add_test(self, items: list[str], where: str, *, dev: bool = False) -> None:
        """Requirements of the test (or dev) set, read from `where`."""
        (self.dev if dev else self.test).extend(items)
        for name in _names(items):
            self.origins.setdefault(name, where)

    def where_declared(self, name: str) -> str | None:
        """Where a distribution the project asks for beside its run-time dependencies is
        declared ("the 'test' extra"); None when it is a run-time one or not declared."""
        from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

        wanted = canonicalize_name(name)
        if wanted in _names(self.runtime):
            return None
        return self.origins.get(wanted)

    @property
    def runtime_home(self) -> str:
        """Where the project declares its run-time dependencies."""
        sources = self.sources
        if any(source.startswith(("pyproject.toml [project]", "uv.lock")) for source in sources):
            return "[project] dependencies"
        if any(source.startswith("poetry") for source in sources):
            return "[tool.poetry.dependencies]"
        if any("requirements" in source for source in sources):
            return "requirements.txt"
        return "[project] dependencies"


def read_requirements(project: Path, pyproject: PyprojectFile | None = None) -> Requirements:
    """Every source of requirements the project has, combined. `pyproject`: the project's
    file when the caller read it already."""
    data = (pyproject or read_pyproject(project)).data
    meta = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else None
    python = meta.get("requires-python")
    result = Requirements(name, python if isinstance(python, str) else None)
    if isinstance(meta.get("version"), str):
        result.version = meta["version"]
    if meta:
        _read_pep621(data, meta, result)
    if (project / "uv.lock").is_file() and meta:
        _read_uv_lock(project, data, result)
    poetry = data.get("tool", {}).get("poetry")
    if isinstance(poetry, dict):
        _read_poetry(poetry, result)
    pdm = data.get("tool", {}).get("pdm", {}).get("dev-dependencies")
    if isinstance(pdm, dict) and pdm:
        for group, items in pdm.items():
            listed = [str(item) for item in items if not str(item).startswith("-e")]
            result.add_test(listed, f"the PDM group '{group}'")
            result.sources.append(f"pdm group {group}")
    legacy_uv = data.get("tool", {}).get("uv", {}).get("dev-dependencies")
    if isinstance(legacy_uv, list) and legacy_uv:  # uv's own before PEP 735; `uv sync` installs it
        result.add_test([str(item) for item in legacy_uv], "[tool.uv] dev-dependencies")
        result.sources.append("[tool.uv] dev-dependencies")
    if not result.locked:
        _pin_to_lock(project, result)
    _read_requirement_files(project, result)
    _keep_dev_when_it_holds_the_tests(result)
    return result


# --- PEP 621 and PEP 735


def _read_pep621(data: dict[str, Any], meta: dict[str, Any], result: Requirements) -> None:
    extras = meta.get("optional-dependencies", {}) or {}
    groups = data.get("dependency-groups", {}) or {}
    own = result.name
    if "dependencies" not in meta and not extras and not groups:
        return  # a [project] table for metadata only (Poetry 1 projects often have none)
    result.runtime += _expand(meta.get("dependencies", []), extras, own)
    used = ["pyproject.toml [project]"]
    for set_name in (*TEST_SETS, *DEV_SETS):
        dev = set_name not in TEST_SETS
        if set_name in extras:
            listed = _expand(extras[set_name], extras, own)
            result.add_test(listed, f"the '{set_name}' extra", dev=dev)
            used.append(f"extra {set_name}")
        if set_name in groups:
            listed = dependency_group(groups, set_name)
            result.add_test(listed, f"the '{set_name}' dependency group", dev=dev)
            used.append(f"group {set_name} (PEP 735)")
    result.test_extras += [set_name for set_name in TEST_SETS if set_name in extras]
    result.sources.append(" + ".join(used))


def _expand(items: list[Any], extras: dict[str, Any], own: str | None) -> list[str]:
    """Requirements, with the project's references to its own extras replaced by them."""
    from packaging.requirements import InvalidRequirement, Requirement  # lazy: 10-20 ms to import
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    result: list[str] = []
    for text in items:
        try:
            requirement = Requirement(str(text))
        except InvalidRequirement:
            raise BadInputError(f"invalid requirement {text!r} in pyproject.toml") from None
        if own and canonicalize_name(requirement.name) == canonicalize_name(own):
            for extra in sorted(requirement.extras):
                result += _expand(extras.get(extra, []), {**extras, extra: []}, own)
            continue
        result.append(str(requirement))
    return result


def dependency_group(
    groups: dict[str, Any], name: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    """A PEP 735 dependency group, with `{include-group = ...}` resolved."""
    result: list[str] = []
    if name in seen:
        return result
    for item in groups.get(name, []):
        if isinstance(item, dict) and "include-group" in item:
            result += dependency_group(groups, str(item["include-group"]), seen | {name})
        elif isinstance(item, str):
            result.append(item)
    return result


# --- uv.lock


def _read_uv_lock(project: Path, data: dict[str, Any], result: Requirements) -> None:
    """Replace what [project] asks for by the versions uv.lock pins for it: the run-time pins
    (no extra, no group) and, as the test set, what the test and dev sets add to them."""
    selection = []
    for extra in result.test_extras:
        selection += ["--extra", extra]
    groups = data.get("dependency-groups", {}) or {}
    for group in (*TEST_SETS, *DEV_SETS):
        if group in groups:
            selection += ["--group", group]
    everything = _uv_export(project, selection)
    runtime = _uv_export(project, ["--no-default-groups"])
    kept = set(runtime)
    result.runtime = runtime
    result.test, result.dev = [line for line in everything if line not in kept], []
    result.locked = True
    result.sources[-1:] = [f"uv.lock (for {result.sources[-1]})"] if result.sources else ["uv.lock"]


def _uv_export(project: Path, selection: list[str]) -> list[str]:
    """The pins `uv export --frozen` gives for `selection` (extras and groups)."""
    from asgigen.environments import uv_binary  # lazy: cycle, environments imports this module

    command = [uv_binary(), "export", "--frozen", "--format", "requirements-txt", "--no-hashes"]
    command += ["--no-emit-project", "--no-header", "--no-annotate", "--quiet", *selection]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    exported = subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if exported.returncode != 0:
        lines = exported.stderr.strip().splitlines()
        raise CheckFailedError(
            "uv.lock cannot be read: " + (lines[-1] if lines else "uv export failed"),
            details=exported.stderr,
            hint=f"cd {project} && uv lock",
        )
    pinned = [line.strip() for line in exported.stdout.splitlines()]
    return [line for line in pinned if line and not line.startswith(("#", "-e", "."))]


# --- Poetry

_POETRY_VERSION = re.compile(r"^\s*([\^~]|~=|==|!=|<=|>=|<|>|=)?\s*([0-9][0-9A-Za-z.*+!-]*)\s*$")


def poetry_constraint(text: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier (empty: any version).

    `^1.2.3` allows changes that keep the leftmost non-zero part (>=1.2.3,<2.0.0);
    `~1.2.3` allows patch changes (>=1.2.3,<1.3.0), `~1` minor ones; `1.2.*` and a bare
    version mean what they mean in PEP 440 (`==`); commas and spaces join clauses.
    """
    text = text.strip()
    if text in ("", "*"):
        return ""
    if "||" in text:
        raise BadInputError(f"Poetry constraint {text!r}: alternatives (||) have no PEP 440 form")
    clauses = [part for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text) if part]
    return ",".join(_poetry_clause(clause) for clause in clauses)


def _poetry_clause(clause: str) -> str:
    match = _POETRY_VERSION.match(clause)
    if not match:
        raise BadInputError(f"Poetry constraint {clause!r} is not one asgigen can read")
    operator, version = match.group(1) or "", match.group(2)
    if operator in ("^", "~"):
        parts = [int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3]]
        if operator == "^":
            index = next((i for i, part in enumerate(parts) if part != 0), len(parts) - 1)
        else:
            index = 0 if len(parts) == 1 else 1
        upper = [*parts[:index], parts[index] + 1]
        upper += [0] * (len(parts) - len(upper))
        return f">={version},<{'.'.join(str(part) for part in upper)}"
    if operator in ("", "=", "=="):
        return f"=={version}"
    return f"{operator}{version}"


def poetry_requirement(name: str, spec: Any) -> list[str]:
    """One `[tool.poetry.dependencies]` entry as PEP 508 requirements (none when optional)."""
    if isinstance(spec, list):  # multiple-constraint dependencies, each with its markers
        return [line for item in spec for line in poetry_requirement(name, item)]
    if isinstance(spec, str):
        return [f"{name}{poetry_constraint(spec)}"]
    if not isinstance(spec, dict) or spec.get("optional"):
        return []
    extras = spec.get("extras") or []
    head = f"{name}[{','.join(extras)}]" if extras else name
    if "git" in spec:
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        body = f"{head} @ git+{spec['git']}{f'@{ref}' if ref else ''}"
    elif "url" in spec:
        body = f"{head} @ {spec['url']}"
    elif "path" in spec:
        body = f"{head} @ file://{os.path.abspath(str(spec['path']))}"
    else:
        body = head + poetry_constraint(str(spec.get("version", "*")))
    markers = [str(spec["markers"])] if spec.get("markers") else []
    if spec.get("python"):
        markers += python_markers(str(spec["python"]))
    return [body + (f" ; {' and '.join(f'({m})' for m in markers)}" if markers else "")]


def python_markers(constraint: str) -> list[str]:
    """Poetry's `python = "^3.10"` of one dependency as environment markers."""
    markers = []
    for clause in poetry_constraint(constraint).split(","):
        match = re.match(r"^(>=|<=|==|!=|<|>|~=)(.+)$", clause)
        if match:
            markers.append(f"python_full_version {match.group(1)} '{match.group(2)}'")
    return markers


def _read_poetry(poetry: dict[str, Any], result: Requirements) -> None:
    dependencies = poetry.get("dependencies") or {}
    groups = poetry.get("group") or {}
    legacy = poetry.get("dev-dependencies") or {}
    if not dependencies and not groups and not legacy:
        return
    if result.name is None and isinstance(poetry.get("name"), str):
        result.name = poetry["name"]
        result.version = poetry.get("version") if isinstance(poetry.get("version"), str) else None
    used = [f"poetry ({len(set(dependencies) - {'python'})} dependencies"]
    if "python" in dependencies and result.requires_python is None:
        result.requires_python = poetry_constraint(str(dependencies["python"])) or None
    for name, spec in dependencies.items():
        if name != "python":
            result.runtime += poetry_requirement(name, spec)
    installed = []
    for group, table in groups.items():
        if not isinstance(table, dict) or table.get("optional"):
            continue  # `poetry install` leaves optional groups out too
        for name, spec in (table.get("dependencies") or {}).items():
            result.add_test(poetry_requirement(name, spec), f"the Poetry group '{group}'")
        installed.append(group)
    for name, spec in legacy.items():
        result.add_test(poetry_requirement(name, spec), "Poetry's dev-dependencies")
    if legacy:
        installed.append("dev-dependencies")
    if installed:
        used.append(f", group {', '.join(installed)}")
    result.sources.append("".join(used) + ")")


# --- poetry.lock, pdm.lock

LOCK_FILES = ("poetry.lock", "pdm.lock")


def _pin_to_lock(project: Path, result: Requirements) -> None:
    """The project's direct requirements at the versions its Poetry or PDM lock file pins.

    Both lock files list `[[package]]` tables with a name and a version. A requirement the
    lock's version does not satisfy (a lock older than pyproject.toml) keeps its range;
    dependencies of dependencies are resolved by uv within the pinned ones' ranges.
    """
    from packaging.requirements import InvalidRequirement, Requirement  # lazy: 10-20 ms to import
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    lock = next((project / name for name in LOCK_FILES if (project / name).is_file()), None)
    if lock is None or not result.sources:
        return
    packages = read_toml(lock).get("package", [])
    versions = {
        canonicalize_name(str(entry["name"])): str(entry["version"])
        for entry in packages
        if isinstance(entry, dict) and "name" in entry and "version" in entry
    }

    def pin(text: str) -> str:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            return text
        version = versions.get(canonicalize_name(requirement.name))
        if (
            requirement.url
            or version is None
            or not requirement.specifier.contains(version, prereleases=True)
        ):
            return text
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f" ; {requirement.marker}" if requirement.marker else ""
        return f"{requirement.name}{extras}=={version}{marker}"

    pinned = [pin(text) for text in [*result.runtime, *result.test, *result.dev]]
    count = len(result.runtime), len(result.test)
    result.runtime = pinned[: count[0]]
    result.test = pinned[count[0] : count[0] + count[1]]
    result.dev = pinned[count[0] + count[1] :]
    result.sources.append(f"pinned by {lock.name}")


# --- requirements files


def requirement_files(project: Path) -> list[Path]:
    """The project's requirements files; a compiled `.txt` replaces the `.in` beside it."""
    patterns = ("requirements*.txt", "requirements*.in", "requirements/*.txt", "requirements/*.in")
    found = sorted(path for pattern in patterns for path in project.glob(pattern))
    return [
        path
        for path in found
        if path.is_file() and not (path.suffix == ".in" and path.with_suffix(".txt").is_file())
    ]


def read_requirement_file(path: Path, seen: frozenset[Path] = frozenset()) -> list[str]:
    """The requirements a file lists, `-r` includes followed; options, constraint files
    (`-c`) and the project itself (`-e .`, `.`) are left out: the check environment gets the
    project on its import path instead."""
    if path in seen:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{path} cannot be read: {err}") from None
    found: list[str] = []
    for raw in re.sub(r"\\\n", "", text).splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        include = re.match(r"^(-r|--requirement)[\s=]+(\S+)$", line)
        if include:
            found += read_requirement_file(path.parent / include.group(2), seen | {path})
        elif line.startswith("-") or line in (".", "./") or line.startswith("./"):
            continue
        else:
            found.append(line.split(" --hash", 1)[0].strip())
    return found


def _read_requirement_files(project: Path, result: Requirements) -> None:
    files = requirement_files(project)
    for path in files:  # one another file includes is read twice: `needed` deduplicates
        listed = read_requirement_file(path)
        if _for_development(path):
            result.add_test(listed, str(path.relative_to(project)))
        else:
            result.runtime += listed
    if files:
        result.sources.append(", ".join(str(path.relative_to(project)) for path in files))


# Words in a requirements file's name that mark it as a development one (requirements-dev.txt,
# requirements/test.in); any other (requirements.txt, base.txt, requirements/web.txt) is what
# the project runs with: taking a run-time file for a test one would fail its boots wrongly.
_DEVELOPMENT = re.compile(
    r"(^|[-_.])(dev|develop|development|tests?|testing|lint|linting|docs?|ci|local|typing|types"
    r"|qa|checks?)($|[-_.])"
)


def _for_development(path: Path) -> bool:
    """Whether a requirements file is for development (tests, linters), not for run time."""
    return _DEVELOPMENT.search(path.stem.lower()) is not None


def _keep_dev_when_it_holds_the_tests(result: Requirements) -> None:
    if mentions(result.test, TEST_RUNNERS) or not mentions(result.dev, TEST_RUNNERS):
        return
    result.test += result.dev
    result.dev = []


def _names(requirements: list[str]) -> list[str]:
    """The canonical distribution names of `requirements` (unreadable ones left out)."""
    from packaging.requirements import InvalidRequirement, Requirement  # lazy: 10-20 ms to import
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    names: list[str] = []
    for text in requirements:
        try:
            names.append(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    return names


def mentions(requirements: list[str], names: tuple[str, ...]) -> bool:
    """Whether any of `requirements` names one of the (canonical) distribution `names`."""
    from packaging.requirements import InvalidRequirement, Requirement  # lazy: 10-20 ms to import
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    for text in requirements:
        try:
            if canonicalize_name(Requirement(text).name) in names:
                return True
        except InvalidRequirement:
            continue
    return False


def run_prefix(project: Path, uv: str, pyproject: PyprojectFile | None = None) -> str:
    """How to run a command with the project's dependencies, verbatim in a fresh shell.

    `uv run` installs what `[project]` (or uv.lock) declares; a Poetry-only project needs
    Poetry's own environment (Poetry itself run by uv), and a project with only requirements
    files gets them with `--with-requirements`.
    """
    found = read_requirements(project, pyproject)
    if any(source.startswith(("pyproject.toml [project]", "uv.lock")) for source in found.sources):
        return f"{uv} run"
    if any(source.startswith("poetry") for source in found.sources):
        return f"{uv} tool run poetry install && {uv} tool run poetry run"
    files = requirement_files(project)
    if files:
        listed = " ".join(
            f"--with-requirements {shlex.quote(str(path.relative_to(project)))}" for path in files
        )
        return f"{uv} run --no-project {listed}"
    return f"{uv} run"
