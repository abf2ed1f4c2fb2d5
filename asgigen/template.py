"""A template and what it declares: its questions, and under `_asgigen` in copier.yml,
which question the project name answers, the variants `validate` renders and the contract
that lands in each project. Templates come from a directory, a git repository or a git URL.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from asgigen.copier_adapter import LoadedTemplate, open_template
from asgigen.errors import BadInputError, TemplateError
from asgigen.generators import Generator, parse_generators

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
    builtin = source is None
    url = str(builtin_template()) if source is None else _url(source)
    try:
        opened = open_template(url, vcs_ref)
        loaded = opened.__enter__()
    except ValueError:
        raise BadInputError(
            f"template {source} is not a directory, a git repository or a git URL",
            hint="give a local path, gh:owner/repo, https://…/repo.git or git@host:repo.git",
        ) from None
    except Exception as err:  # a clone failing (bad URL, unknown ref) raises plumbum's errors
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


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


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
    unknown = sorted(set(raw) - {"name_question", "variants", "contract", "generators"})
    if unknown:
        raise TemplateError(
            f"{DECLARATION_KEY} in copier.yml has an unknown key {unknown[0]!r}",
            hint="known keys: name_question, variants, contract, generators "
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
    generators = parse_generators(raw.get("generators"), f"{DECLARATION_KEY}.generators")
    return Declaration(name_question, variants, contract, generators)
