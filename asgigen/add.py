"""`asgigen add`: render one of the template's generators into the project you are in.

The template is the one the project records (`_src_path`, at its `_commit` for a git
template); what gets written, and where, is the generator's business (asgigen/generators.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import environments, gates, generators, template
from asgigen.console import Console
from asgigen.contract import (
    CONTRACT_FILE,
    discover,
    dump_toml,
    has_declared_contract,
    load_contract,
)
from asgigen.errors import BadInputError
from asgigen.generate import ANSWERS_FILE, BUILTIN_SOURCE, load_yaml
from asgigen.pyproject_file import FILE, PyprojectFile, parse_toml, read_pyproject
from asgigen.servers import SERVERS


@dataclass
class AddResult:
    project: Path
    generator: str
    data: dict[str, Any]
    written: list[tuple[str, bool]]  # (path, new file)
    diff: str
    dry_run: bool
    runs: list[str] = field(default_factory=list)  # the plan's [[run]] commands

    def summary(self) -> str:
        if self.dry_run:
            # Lines outside a hunk, which `git apply` and `patch` pass over.
            not_run = [f"# then, not run with --dry-run: {run}\n" for run in self.runs]
            return self.diff + "".join(not_run)
        args = " ".join(str(v) for v in self.data.values())
        lines = [f"added {self.generator} {args} to {self.project.name}:"]
        lines += [f"  {'new' if new else 'changed':<8} {name}" for name, new in self.written]
        lines.append("next: asgigen check (its tests and probes now include this)")
        return "\n".join(lines)


def find_project(start: Path) -> Path:
    """The project holding `start`: the nearest directory up with an answers file."""
    here = start.expanduser().absolute()
    for candidate in (here, *here.parents):
        if (candidate / ANSWERS_FILE).is_file():
            return candidate
    raise BadInputError(
        f"{here} is not inside a generated project (no {ANSWERS_FILE} here or above)",
        hint="cd into a project made by `asgigen new` (or copier), or pass --project PATH",
    )


def read_answers(project: Path) -> dict[str, Any]:
    loaded = load_yaml((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise BadInputError(f"{project / ANSWERS_FILE} does not hold a mapping of answers")
    return loaded


@contextmanager
def project_template(answers: Mapping[str, Any]) -> Iterator[Any]:
    """The template the project was made from, at the version that made it."""
    source = answers.get("_src_path")
    if not isinstance(source, str) or not source:
        raise BadInputError(f"{ANSWERS_FILE} does not record which template made the project")
    if source == BUILTIN_SOURCE:
        with template.load(None) as loaded:
            yield loaded
        return
    commit = answers.get("_commit")
    with template.load(source, None if commit is None else str(commit)) as loaded:
        yield loaded


def offered(start: Path) -> str:
    """The generators the project's template offers, one a line with its usage."""
    project = find_project(start)
    with project_template(read_answers(project)) as loaded:
        found = loaded.declaration.generators
    if not found:
        return "the project's template offers no generators (_asgigen.generators in copier.yml)"
    usages = {
        name: f"asgigen add {name} {' '.join(a.upper() for a in g.arguments)}".rstrip()
        for name, g in found.items()
    }
    width = max(len(usage) for usage in usages.values())
    return "\n".join(
        f"{usages[name]:<{width}}  {found[name].help}".rstrip() for name in sorted(found)
    )


def contract_file(project: Path, pyproject: PyprojectFile | None = None) -> str:
    """Where the project's contract lives, so probes and the record go there. `pyproject`:
    the project's file when the caller read it already."""
    pyproject = pyproject or read_pyproject(project)
    if not has_declared_contract(project, pyproject):
        return CONTRACT_FILE  # created with the first probe
    return (
        "pyproject.toml"
        if load_contract(project, pyproject).source.startswith("pyproject")
        else (CONTRACT_FILE)
    )


def add(
    start: Path, generator_name: str, arguments: list[str], *, dry_run: bool = False
) -> AddResult:
    """Render the generator with these arguments into the project; write it unless dry_run."""
    project = find_project(start)
    answers = read_answers(project)
    with project_template(answers) as loaded:
        offered = loaded.declaration.generators
        if generator_name not in offered:
            names = ", ".join(sorted(offered)) or "none"
            raise BadInputError(
                f"the project's template offers no generator {generator_name!r}",
                hint=f"it offers: {names} (declared in its copier.yml under _asgigen.generators)",
            )
        generator = offered[generator_name]
        if len(arguments) != len(generator.arguments):
            usage = " ".join(a.upper() for a in generator.arguments)
            raise BadInputError(
                f"asgigen add {generator_name} takes {len(generator.arguments)} argument(s), "
                f"got {len(arguments)}",
                hint=f"usage: asgigen add {generator_name} {usage}".rstrip(),
            )
        data = dict(zip(generator.arguments, arguments, strict=True))
        known = {k: v for k, v in answers.items() if not k.startswith("_")}
        plan = generators.render(loaded.path, generator, known, data)
    pyproject = read_pyproject(project)  # once: every reader below is handed it
    where = contract_file(project, pyproject)
    changes = generators.Changes(project)
    if changes.text(where) is None:
        changes.put(where, _first_contract(project, pyproject))
    generators.apply(plan, changes, where, pyproject=pyproject)
    recorded = generators.record(changes.text(where) or "", where, generator_name, data)
    changes.put(where, recorded)
    diff = changes.diff()
    written = [(name, before is None) for name, (before, _) in sorted(changes.edits.items())]
    runs = [run.shown() for run in plan.run]
    if not dry_run:
        before = _files(project) if plan.run else set()
        changes.write()
        if plan.run:
            console = Console()
            try:
                python = _check_python(project, console, pyproject=_after(pyproject, changes))
                generators.run_steps(plan.run, project, python, console)
            except BaseException:
                _undo(project, changes, before)
                raise
            made = sorted(_files(project) - before - set(changes.edits))
            written = sorted([*written, *((name, True) for name in made)])
    return AddResult(project, generator_name, data, written, diff, dry_run, runs)


def _files(project: Path) -> set[str]:
    """The project's files, but for its git directory: what the plan's commands may add to."""
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not {".git", ".venv"} & set(path.relative_to(project).parts)
    }


def _undo(project: Path, changes: Any, before: set[str]) -> None:
    """A command of the plan failed: the project as it was, nothing half-added."""
    for name, (old, _) in changes.edits.items():
        if old is None:
            (project / name).unlink(missing_ok=True)
        else:
            (project / name).write_text(old, encoding="utf-8")
    for name in _files(project) - before:
        (project / name).unlink(missing_ok=True)


def _after(pyproject: PyprojectFile, changes: generators.Changes) -> PyprojectFile:
    """The project's pyproject.toml as the addition left it: the one read before, unless the
    addition changed it (its contract, a dependency), then its new text, parsed once."""
    edit = changes.edits.get(FILE)
    if edit is None:
        return pyproject
    text = edit[1]
    return PyprojectFile(pyproject.path, parse_toml(pyproject.path, text), text, exists=True)


def _check_python(project: Path, console: Console, pyproject: PyprojectFile | None = None) -> str:
    """The interpreter of the environment `asgigen check` builds for the project (the same
    one, from the cache, when it was built before). `pyproject`: the project's file when the
    caller read it already."""
    pyproject = pyproject or read_pyproject(project)
    tools = gates.configured(project, pyproject)
    servers = [SERVERS["uvicorn"].requirement]
    env = environments.cached_environment(
        project, tools=tools, servers=servers, pyproject=pyproject
    )
    if env.built is not None:
        console.step("env", f"built {env.path}", env.built)
    return env.python


def _first_contract(project: Path, pyproject: PyprojectFile) -> str:
    """A project that declares no contract gets one, with the app found the way `check`
    finds it, so the probes and the record have somewhere to live."""
    found = discover(project, pyproject)
    if found.app is None:
        raise BadInputError(
            f"{project.name} declares no contract and no app can be found, so its probes "
            "have nowhere to go",
            hint='create asgigen.toml with app = "yourpkg.module:app" (templates/CONTRACT.md)',
        )
    return dump_toml({"app": found.app, "pythonpath": list(found.pythonpath)})


def reapply(project: Path, template_root: Path, offered: Mapping[str, Any]) -> dict[str, str]:
    """After an update: put back what a recorded addition needs and the merge dropped.
    Returns conflicts (file → why) for additions whose anchor is gone."""
    try:
        pyproject = read_pyproject(project)
        contract = load_contract(project, pyproject)
    except BadInputError:  # the merge left its markers in the contract: a conflict already
        return {}
    if not contract.additions:
        return {}
    answers = {k: v for k, v in read_answers(project).items() if not k.startswith("_")}
    where = contract_file(project, pyproject)
    changes = generators.Changes(project)
    conflicts: dict[str, str] = {}
    for name, data in contract.additions:
        generator = offered.get(name)
        if generator is None:
            conflicts[where] = f"the template no longer offers generator {name!r}: check by hand"
            continue
        plan = generators.render(template_root, generator, answers, data)
        for missing in generators.apply(plan, changes, where, reapply=True, pyproject=pyproject):
            conflicts[missing.split(":", 1)[0]] = (
                f"addition {name} {' '.join(map(str, data.values()))}: {missing.split(': ', 1)[1]}"
                " any more; put it back by hand"
            )
    changes.write()
    return conflicts
