"""Validate the answers, render the copier template beside the target, move it into place."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import answers_file, naming, processes, render_extensions
from asgigen.contract import CONTRACT_FILE, dump_toml, has_declared_contract
from asgigen.copier_adapter import render, task_failed
from asgigen.errors import AsgigenError, BadInputError, TemplateError
from asgigen.project_layout import locate
from asgigen.pyproject_file import PyprojectFile, TomlFileError, read_pyproject
from asgigen.shadowing import shadowed
from asgigen.template import Question, Template, load
from asgigen.template_history import template_version

ANSWERS_FILE = ".copier-answers.yml"
# What the answers file records as `_src_path` for the built-in template: a name, not a
# path, because the path of an installed asgigen differs between machines.
BUILTIN_SOURCE = "asgigen:builtin"


def load_yaml(text: str) -> Any:
    """Parse YAML with libyaml's C loader when present: several times faster than pure Python."""
    import yaml  # lazy: 10-35 ms to import

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _convert(question: Question, value: Any) -> Any:
    """`value` as the type the question asks for; raw strings come from `--data`."""
    kind = question.type
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadInputError(f"answer {question.name!r} must be a whole number, got {value!r}")
        try:
            return int(value)
        except ValueError:
            raise BadInputError(
                f"answer {question.name!r} must be a whole number, got {value!r}"
            ) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "y", "on", "1"}:
            return True
        if text in {"false", "no", "n", "off", "0"}:
            return False
        raise BadInputError(f"answer {question.name!r} must be true or false, got {value!r}")
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise BadInputError(
                f"answer {question.name!r} must be a number, got {value!r}"
            ) from None
    if isinstance(value, (dict, list)) and kind not in {"yaml", "json"}:
        raise BadInputError(f"answer {question.name!r} must be text, got {json.dumps(value)}")
    return value if kind in {"yaml", "json"} else str(value)


def parse_data_pairs(pairs: list[str]) -> dict[str, str]:
    """`--data KEY=VALUE` options as a mapping; the value may contain `=`."""
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--data {pair!r} is not KEY=VALUE", hint="e.g. --data port=9000")
        data[key.strip()] = value
    return data


def load_data_file(path: Path) -> dict[str, Any]:
    """Answers from a YAML or JSON file (JSON is YAML, so one parser reads both)."""
    import yaml  # lazy: 10-35 ms to import

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BadInputError(f"cannot read data file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise BadInputError(f"data file {path} is not UTF-8 text") from None
    try:
        loaded = load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise BadInputError(f"data file {path} is not valid YAML or JSON{where}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise BadInputError(f"data file {path} must hold a mapping of question names to answers")
    return loaded


def validate_answers(
    questions: Mapping[str, Question],
    answers: Mapping[str, Any],
    *,
    builtin: bool = False,
    style: str | None = None,
) -> dict[str, Any]:
    """Check answers against the template's questions; return them typed.

    The built-in template's names also go through asgigen's naming rules up front, for a
    message with a hint before anything renders (its copier.yml validators say the same).
    """
    typed: dict[str, Any] = {}
    for key, value in answers.items():
        if key not in questions:
            known = ", ".join(sorted(questions))
            raise BadInputError(f"unknown question {key!r}", hint=f"this template asks: {known}")
        question = questions[key]
        converted = _convert(question, value)
        if question.choices and converted not in question.choices:
            allowed = ", ".join(str(choice) for choice in question.choices)
            raise BadInputError(f"answer {key!r} must be one of {allowed}; got {converted!r}")
        if isinstance(converted, str):
            _check_text(key, converted)
        typed[key] = converted
    if not builtin:
        return typed
    checks: dict[str, Callable[[Any], str]] = {
        "project_name": naming.project_name_error,
        "package_name": lambda name: (
            naming.package_name_error(name, style=style) or naming.package_name_length_error(name)
        ),
        "port": naming.port_error,
    }
    for key, check in checks.items():
        if key in typed and (problem := check(typed[key])):
            raise BadInputError(problem)
    return typed


def _check_text(key: str, text: str) -> None:
    """Free text may hold any printable character, newlines and tabs; no other controls."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(f"answer {key!r} is not valid Unicode text") from None
    for char in text:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            raise BadInputError(f"answer {key!r} contains the control character U+{ord(char):04X}")


@dataclass
class GenerateRequest:
    target: Path
    style: str | None = None
    package: str | None = None
    description: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    defaults: bool = False
    force: bool = False
    dry_run: bool = False
    template: str | Path | None = None  # None: the built-in template
    vcs_ref: str | None = None
    trust: bool = False
    interactive: bool | None = None
    # Called with the rendered project, its files and the target before the project moves
    # into place (`new` makes it a git repository there): the move lands it complete.
    before_move: Callable[[Path, list[str], Path], None] | None = None


@dataclass
class GenerateResult:
    path: Path
    answers: dict[str, Any]
    files: list[str]
    seconds: float
    template: str  # "built-in", or the path or URL given
    overwritten: list[str] = field(default_factory=list)
    project_dir: str | None = None  # where the template says the Python project is
    answers_file: str | None = None  # where copier wrote the answers; None: nowhere
    extensions: list[str] = field(default_factory=list)  # Jinja extensions installed for it


# Options `new` offers for the built-in template's questions: option → question.
OPTION_QUESTIONS = {"style": "style", "package": "package_name", "description": "description"}


def _check_target(target: Path, *, force: bool) -> None:
    if target.is_file() or (target.exists() and not target.is_dir()):
        raise BadInputError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BadInputError(
            f"directory {target} already exists and is not empty",
            hint="choose another name, empty it, or pass --force to render into it",
        )
    parent = _existing_ancestor(target.parent)
    if not os.access(parent, os.W_OK):
        raise BadInputError(f"cannot write to {parent}: permission denied")


def _existing_ancestor(path: Path) -> Path:
    while not path.exists():
        if path.parent == path:
            break
        path = path.parent
    if not path.is_dir():
        raise BadInputError(f"{path} is a file, so {path}/... cannot be created")
    return path


def collect_answers(request: GenerateRequest, template: Template) -> dict[str, Any]:
    """Merge the name, options and `--data` into one validated answer set."""
    name = request.target.name
    if not name:
        raise BadInputError(f"{request.target} does not end in a project name")
    answers: dict[str, Any] = dict(request.data)
    for option, question in OPTION_QUESTIONS.items():
        value = getattr(request, option)
        if value is None:
            continue
        if question not in template.questions:
            raise BadInputError(
                f"--{option} is for templates that ask {question!r}; {template.source} does not",
                hint=f"pass its answers with --data; it asks: {', '.join(template.questions)}",
            )
        if question in answers and str(answers[question]) != str(value):
            raise BadInputError(
                f"--{option} {value} disagrees with --data {question}={answers[question]}",
                hint="give the answer once",
            )
        answers[question] = value
    name_question = template.declaration.name_question
    if name_question is not None:
        if str(answers.get(name_question, name)) != name:
            raise BadInputError(
                f"--data {name_question}={answers[name_question]} disagrees with the target "
                f"{name!r}",
                hint="the project name is the last component of the target path",
            )
        answers[name_question] = name
    if template.builtin:
        if problem := naming.project_name_error(name):
            raise BadInputError(problem)
        if "package_name" not in answers:
            answers["package_name"] = naming.derive_package_name(name)
            derived = True
        else:
            derived = False
        try:
            style = answers.get("style", template.loaded.questions["style"].get("default"))
            return validate_answers(template.questions, answers, builtin=True, style=style)
        except BadInputError as err:
            if derived and err.message.startswith("package name"):
                raise BadInputError(
                    f"{err.message} (derived from the project name)",
                    hint="pass --package NAME to choose another import name",
                ) from None
            raise
    return validate_answers(template.questions, answers)


def is_interactive() -> bool:
    """Prompts only make sense with a person at a terminal, never in CI."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        return False
    return sys.stdin.isatty() and sys.stderr.isatty()


def new_project(request: GenerateRequest) -> GenerateResult:
    """Render a project into `request.target` atomically and return what was written."""
    started = time.perf_counter()
    source = None if request.template is None else str(request.template)
    target = Path(os.path.abspath(request.target.expanduser()))  # no symlink resolution
    request.target = target
    installed: list[str] = []  # Jinja extensions installed for this render
    with load(source, request.vcs_ref) as template:
        answers = collect_answers(request, template)
        _check_target(target, force=request.force)
        interactive = is_interactive() if request.interactive is None else request.interactive
        ask = interactive and not request.defaults
        staging_parent = Path(tempfile.gettempdir()) if request.dry_run else target.parent
        with (
            _created_parents(target.parent, keep=not request.dry_run) as _,
            _staging_dir(staging_parent, target.name) as staging,
        ):
            rendered = staging / target.name
            final_answers = _render(
                template, rendered, answers, ask=ask, trust=request.trust, installed=installed
            )
            if template.builtin:
                # a released version (--vcs-ref) or the live one
                version = template.loaded.commit if template.loaded.ref else None
                record_builtin_source(rendered / ANSWERS_FILE, version)
            project = _project_in(rendered, template)
            pyproject = _rendered_pyproject(project, template)
            land_contract(template, project, final_answers, pyproject)
            _refuse_shadowing(project, pyproject, builtin=template.builtin)
            files = sorted(
                str(path.relative_to(rendered))
                for path in rendered.rglob("*")
                if path.is_file() and path.relative_to(rendered).parts[0] != ".git"
            )  # a repository the template's tasks made (`git init`) is not a generated file
            overwritten = [name for name in files if (target / name).exists()]
            if not request.dry_run:
                if request.before_move is not None:
                    request.before_move(rendered, files, target)
                with processes.deferred():  # a signal now lands after the move, not during it
                    _move_into_place(rendered, target)

    written = [name for name in files if Path(name).name.startswith(".copier-answers")]
    return GenerateResult(
        target,
        final_answers,
        files,
        time.perf_counter() - started,
        template.source,
        overwritten,
        template.declaration.project_dir,
        answers_file.DEFAULT if answers_file.DEFAULT in written else next(iter(written), None),
        installed,
    )


def _project_in(rendered: Path, template: Template) -> Path:
    """Where the contract lands: the project's folder (see project_layout), else the root."""
    try:
        return locate(rendered, template.declaration.project_dir)
    except BadInputError:
        if template.declaration.project_dir:
            raise
        return rendered  # `check` names what is wrong with the layout


def _rendered_pyproject(project: Path, template: Template) -> PyprojectFile | None:
    """The rendered pyproject.toml, read once for the contract and the shadowing check; None
    when it is not TOML and the template declares no contract to land (`check` reports it)."""
    try:
        return read_pyproject(project)
    except TomlFileError:
        if template.declaration.contract is not None:
            raise
        return None


def _refuse_shadowing(project: Path, pyproject: PyprojectFile | None, *, builtin: bool) -> None:
    """A package named as a dependency of this variant imports itself instead: refused."""
    if pyproject is None:
        return  # not TOML: it names no dependency
    for package, distribution in shadowed(project, pyproject):
        raise BadInputError(
            f"package name {package!r} would shadow {distribution!r}, which this project "
            "depends on",
            hint="pass --package NAME to choose another import name"
            if builtin
            else "answer the template's package question with another name (--data)",
        )


def land_contract(
    template: Template,
    project: Path,
    answers: dict[str, Any],
    pyproject: PyprojectFile | None = None,
) -> None:
    """Write the contract the template declares, unless the project renders its own.
    `pyproject`: the rendered pyproject.toml when the caller read it already."""
    declared = template.declaration.contract
    if declared is None or has_declared_contract(project, pyproject):
        return
    from jinja2.sandbox import SandboxedEnvironment  # lazy: 20-70 ms to import

    environment = SandboxedEnvironment(keep_trailing_newline=True)

    def render(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return environment.from_string(value).render(**answers)
            except Exception as err:
                raise TemplateError(
                    f"{template.source}: _asgigen.contract value {value!r} does not render: {err}"
                ) from None
        if isinstance(value, list):
            return [render(item) for item in value]
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        return value

    contract = render(declared)
    text = "# What `asgigen check` proves about this project; edit it along with the app.\n"
    (project / CONTRACT_FILE).write_text(text + dump_toml(contract), encoding="utf-8")


def _render(
    template: Template,
    destination: Path,
    answers: dict[str, Any],
    *,
    ask: bool,
    trust: bool,
    installed: list[str] | None = None,
) -> dict[str, Any]:
    """Render; a trusted template's missing Jinja extensions are installed for it (see
    render_extensions) and the render tried again, their names added to `installed`."""
    from copier.errors import ExtensionNotFoundError  # lazy: 0.6 s to import

    tried: set[str] = set()
    while True:
        try:
            return _render_once(template, destination, answers, ask=ask, trust=trust)
        except ExtensionNotFoundError as err:
            module = render_extensions.missing_module(err)
            if module is None:
                raise TemplateError(f"rendering the template failed: {_first_line(err)}") from None
            if not trust or module in tried:
                raise render_extensions.not_installed(module) from None
            tried.add(module)
            name = render_extensions.provide(module)
            if installed is not None:
                installed.append(name)
            shutil.rmtree(destination, ignore_errors=True)  # copier stopped before writing


def _render_once(
    template: Template, destination: Path, answers: dict[str, Any], *, ask: bool, trust: bool
) -> dict[str, Any]:
    from copier.errors import (  # lazy: 0.6 s to import
        CopierAnswersInterrupt,
        CopierError,
        ExtensionNotFoundError,
        TaskError,
        UnsafeTemplateError,
    )

    try:
        return render(template.loaded, destination, answers, ask=ask, trust=trust)
    except CopierAnswersInterrupt:
        raise KeyboardInterrupt from None
    except AsgigenError:
        raise  # Ctrl-C arrives as asgigen's own Interrupted
    except UnsafeTemplateError as err:
        raise BadInputError(
            f"{template.source} uses features copier runs only when trusted: {_first_line(err)}",
            hint="read the template's copier.yml, then pass --trust if you trust it",
        ) from None
    except ValueError as err:
        if not ask:
            # Copier names one unanswered question at a time ("Question x is required"):
            # name every answer still missing, each with the --data line that gives it.
            from asgigen.selection import Space, require_answers  # lazy: cycle, it imports us

            require_answers(template, Space(template, answers), [answers])
        # A failing validator surfaces as a ValueError; its text is the rule's message.
        message = str(err).strip().splitlines()[-1] if str(err).strip() else "invalid answer"
        raise BadInputError(message) from None
    except ExtensionNotFoundError:
        raise  # _render installs it, or names it
    except TaskError as err:
        raise task_failed(err) from None
    except (CopierError, OSError) as err:
        raise TemplateError(f"rendering the template failed: {err}") from None
    except Exception as err:  # a broken template raises Jinja and YAML errors of every kind
        raise TemplateError(f"rendering the template failed: {type(err).__name__}: {err}") from None


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def record_builtin_source(answers_file: Path, version: str | None = None) -> None:
    """Point the answers file at the built-in template by name and version, not by path."""
    version = version or template_version()
    if not answers_file.is_file():
        return
    lines = answers_file.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(("_src_path:", "_commit:"))]
    at = next((i for i, line in enumerate(kept) if not line.startswith("#")), len(kept))
    kept[at:at] = [f"_commit: '{version}'", f"_src_path: {BUILTIN_SOURCE}"]
    answers_file.write_text("\n".join(kept) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _staging_dir(parent: Path, name: str) -> Iterator[Path]:
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.asgigen-", dir=parent))
    except OSError as err:
        raise BadInputError(
            f"cannot create a directory in {parent}: {err.strerror or err}",
            hint="choose a path in a directory you can write to",
        ) from None
    try:
        yield staging
    finally:
        with processes.deferred():  # however often interrupted, the staging goes whole
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def _created_parents(directory: Path, *, keep: bool) -> Iterator[None]:
    """Create missing parents; remove the ones we created if the body fails."""
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    try:
        yield
    except BaseException:
        for path in missing:  # deepest first
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
    else:
        if not keep:
            for path in missing:
                with contextlib.suppress(OSError):
                    path.rmdir()


def _move_into_place(rendered: Path, target: Path) -> None:
    if not target.exists():
        os.rename(rendered, target)
        return
    # --force into an existing directory: rename file by file, replacing what the template owns.
    if (rendered / ".git").is_dir() and not (target / ".git").exists():
        os.rename(rendered / ".git", target / ".git")  # the repository made in the staging
    for source in sorted(rendered.rglob("*")):
        destination = target / source.relative_to(rendered)
        if source.is_dir():
            destination.mkdir(exist_ok=True)
        else:
            os.replace(source, destination)
