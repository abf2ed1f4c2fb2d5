"""A template and what it declares: its questions, and under `_asgigen` in copier.yml,
which question the project name answers, the variants `validate` renders and the contract
that lands in each project. Templates come from a directory, a git repository or a git URL.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from asgigen import template_history
from asgigen.copier_adapter import LoadedTemplate, open_template
from asgigen.errors import BadInputError, TemplateError
from asgigen.errors import last_line as _last_line
from asgigen.generators import Generator, parse_generators
from asgigen.git import run as run_git

DECLARATION_KEY = "_asgigen"
_GIT_URL = re.compile(r"^(https?://|git@|git\+|ssh://|file://|gh:|gl:)")


def builtin_template() -> Path:
    """The template shipped inside the wheel, or `templates/` of a source checkout."""
    packaged = Path(str(resources.files("asgigen"))) / "templates"
    if (packaged / "copier.yml").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Variant:
    """A named answer set `validate` renders; the project is named after the variant."""

    name: str
    data: dict[str, Any]


@dataclass
class Declaration:
    name_question: str | None
    variants: list[Variant] = field(default_factory=list)
    contract: dict[str, Any] | None = None  # lands in the project as asgigen.toml
    answer_space: Any = None  # pins and exclusions for validate --pairwise/--exhaustive
    project_dir: str | None = None  # the folder of the render holding the Python project
    # `asgigen add` commands the template offers (asgigen/generators.py)
    generators: dict[str, Generator] = field(default_factory=dict)


@dataclass
class Template:
    source: str  # what the user named: "built-in", a path or a URL
    builtin: bool
    loaded: LoadedTemplate
    questions: dict[str, Question]
    declaration: Declaration

    @property
    def path(self) -> Path:
        return self.loaded.path


@contextlib.contextmanager
def load(source: str | None, vcs_ref: str | None = None) -> Iterator[Template]:
    """Open the built-in template, a directory, a git repository or a git URL."""
    if source is None and vcs_ref is not None:
        with _builtin_release(vcs_ref) as history, load(str(history), vcs_ref) as released:
            released.source, released.builtin = f"built-in {vcs_ref}", True
            yield released
        return
    builtin = source is None
    url = str(builtin_template()) if source is None else _url(source)
    try:
        opened = open_template(url, vcs_ref)
        with _held_stderr():  # copier prints a banner of its own for a copier.yml it rejects
            loaded = opened.__enter__()
    except ValueError as err:
        _invalid_yaml(source or "built-in", err)
        if vcs_ref is not None and source is not None:
            _no_such_ref(source, url, vcs_ref)
        raise BadInputError(
            f"template {source} is not a directory, a git repository or a git URL",
            hint="give a local path, gh:owner/repo, https://…/repo.git or git@host:repo.git",
        ) from None
    except Exception as err:  # a clone failing (bad URL, unknown ref) raises plumbum's errors
        if vcs_ref is not None and source is not None:
            _no_such_ref(source, url, vcs_ref)
        raise BadInputError(
            f"cannot get template {source}{f' at {vcs_ref}' if vcs_ref else ''}: "
            + _last_line(str(err)),
            hint="check the URL and --vcs-ref; git must be able to clone it",
        ) from None
    try:
        if not any((loaded.path / name).is_file() for name in ("copier.yml", "copier.yaml")):
            raise BadInputError(f"{source} is not a copier template (it has no copier.yml)")
        yield Template(
            source="built-in" if builtin else str(source),
            builtin=builtin,
            loaded=loaded,
            questions=_questions(loaded.questions),
            declaration=_declaration(loaded.config, loaded.questions),
        )
    finally:
        opened.__exit__(None, None, None)


# sys.stderr is one for all threads (validate renders variants in parallel): two redirects
# that overlap would restore each other's buffer and lose every later line.
_HOLDING = threading.Lock()


@contextlib.contextmanager
def _held_stderr() -> Iterator[None]:
    """Hold what is printed to stderr; pass it on unless the block raises."""
    held = io.StringIO()
    with _HOLDING, contextlib.redirect_stderr(held):
        yield
    sys.stderr.write(held.getvalue())


def _invalid_yaml(source: str, err: ValueError) -> None:
    """Raise naming the file, line and YAML problem when copier rejected its config file."""
    import yaml  # lazy: 10-35 ms to import

    cause = err.__cause__
    if not isinstance(cause, yaml.YAMLError):
        return
    name = Path(str(err.args[0])).name if err.args else "copier.yml"
    mark = getattr(cause, "problem_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = " ".join(str(getattr(cause, "problem", None) or cause).split())
    raise BadInputError(
        f"template {source}: {name} is not valid YAML:{where}: {problem}",
        hint=f"fix {name} at that line (copier reads it as YAML), then run again",
    ) from None


@contextlib.contextmanager
def _builtin_release(version: str) -> Iterator[Path]:
    """A git repository of the built-in template's released versions (what `update` merges
    with), to render `version` from; an error naming the versions when it is not one."""
    with tempfile.TemporaryDirectory(prefix="asgigen-template-history-") as tmp:
        live = template_history.template_version()
        repo = template_history.build_repo(Path(tmp) / "template", builtin_template(), live)
        tags = template_history.git("tag", "--list", cwd=repo).split()
        versions = sorted(tags, key=template_history.version_key)
        if version not in versions:
            raise BadInputError(
                f"--vcs-ref {version}: the built-in template has no such version",
                hint=f"released versions: {', '.join(versions)}",
            )
        yield repo


def _no_such_ref(source: str, url: str, ref: str) -> None:
    """Raise naming `ref` and the tags there are, when `url` is a git repository without it."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return run_git(*args, cwd=Path.cwd(), timeout=60)

    local = Path(url)
    if local.is_dir():
        if git("-C", url, "rev-parse", "--git-dir").returncode != 0:
            return  # not a repository: the caller's message says so
        if git("-C", url, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
            return  # the ref exists: something else failed
        tags = git("-C", url, "tag", "--list").stdout.split()
    else:
        listed = git("ls-remote", "--tags", "--refs", url.removeprefix("git+"))
        if listed.returncode != 0:
            return
        tags = [line.rsplit("refs/tags/", 1)[-1] for line in listed.stdout.splitlines()]
    raise BadInputError(
        f"template {source} has no ref {ref!r}",
        hint=f"its tags: {', '.join(tags) if tags else '(none)'}; --vcs-ref takes a tag, a "
        "branch or a commit",
    )


def _url(source: str) -> str:
    path = Path(source).expanduser()
    if path.exists():
        return str(path.resolve())
    if source.startswith("file://"):
        return "git+" + source  # how copier recognises a git repository behind file://
    if _GIT_URL.match(source):
        return source
    raise BadInputError(
        f"template {source} is not a directory, a git repository or a git URL",
        hint="give a local path, gh:owner/repo, https://…/repo.git or git@host:repo.git",
    )


def _questions(raw: dict[str, dict[str, Any]]) -> dict[str, Question]:
    questions = {}
    for name, spec in raw.items():
        kind = spec.get("type")
        if not kind:  # copier infers the type from the default
            default = spec.get("default")
            kind = {bool: "bool", int: "int", float: "float"}.get(type(default), "str")
        choices = spec.get("choices") or ()
        if isinstance(choices, dict):
            choices = tuple(choices.values())
        questions[name] = Question(name, str(kind), tuple(choices))
    return questions


def _declaration(config: dict[str, Any], questions: dict[str, Any]) -> Declaration:
    raw = config.get(DECLARATION_KEY) or {}
    if not isinstance(raw, dict):
        raise TemplateError(f"{DECLARATION_KEY} in copier.yml must be a mapping")
    known = {"name_question", "variants", "contract", "answer_space", "project_dir", "generators"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise TemplateError(
            f"{DECLARATION_KEY} in copier.yml has an unknown key {unknown[0]!r}",
            hint="known keys: name_question, variants, contract, answer_space, project_dir, "
            "generators "
            "(see templates/CONTRACT.md)",
        )
    name_question = raw.get("name_question")
    if name_question is None and "project_name" in questions:
        name_question = "project_name"
    if name_question is not None and name_question not in questions:
        raise TemplateError(
            f"{DECLARATION_KEY}.name_question names {name_question!r}, which copier.yml "
            "does not ask"
        )
    variants_raw = raw.get("variants") or {}
    if not isinstance(variants_raw, dict):
        raise TemplateError(f"{DECLARATION_KEY}.variants must map a name to its answers")
    variants = []
    for name, data in variants_raw.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]*", str(name)):
            raise TemplateError(f"variant name {name!r}: lowercase letters, digits and '-'")
        if not isinstance(data, dict):
            raise TemplateError(f"variant {name!r} must be a mapping of answers")
        variants.append(Variant(str(name), dict(data)))
    contract = raw.get("contract")
    if contract is not None and not isinstance(contract, dict):
        raise TemplateError(f"{DECLARATION_KEY}.contract must be a mapping (the contract)")
    project_dir = raw.get("project_dir")
    if project_dir is not None and (
        not isinstance(project_dir, str)
        or not project_dir.strip()
        or Path(project_dir).is_absolute()
        or ".." in Path(project_dir).parts
    ):
        raise TemplateError(
            f"{DECLARATION_KEY}.project_dir must be a folder inside the rendered project, "
            f"not {project_dir!r}"
        )
    generators = parse_generators(raw.get("generators"), f"{DECLARATION_KEY}.generators")
    return Declaration(
        name_question, variants, contract, raw.get("answer_space"), project_dir, generators
    )
