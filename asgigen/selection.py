"""Which cases `asgigen validate` runs: the declared variants, a pairwise cover of the
template's answer space, or all of it; narrowed by the options, then one shard of them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from asgigen import answer_space
from asgigen.console import Console
from asgigen.copier_adapter import QuestionRules
from asgigen.errors import AsgigenError, BadInputError, TemplateError
from asgigen.generate import validate_answers
from asgigen.servers import SERVERS
from asgigen.template import Template, Variant

DEFAULT_VARIANT = "default"
SELECTIONS = ("declared", "pairwise", "exhaustive")


@dataclass(frozen=True)
class Case:
    """One answer set of the template booted under one server: a unit of a CI matrix."""

    variant: str
    server: str
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    answers: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return f"{self.variant}@{self.server}"

    def to_matrix(self) -> dict[str, Any]:
        """The case as a CI matrix entry (`case` and `variant` kept for older workflows)."""
        return {
            "name": self.name,
            "case": self.name,
            "variant": self.variant,
            "server": self.server,
            "answers": dict(self.answers),
        }


@dataclass
class Request:
    """What the command line asked for."""

    selection: str = "declared"
    variants: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)  # names, resolved
    case: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # typed, from --data/--data-file
    shard: tuple[int, int] | None = None
    durations: dict[str, float] = field(default_factory=dict)


def project_name_for(case: str) -> str:
    """The project a case renders: named after it, unless that name would be too long.

    An answer set's name can be long (fastapi-python-version-3-12-no-docker); the project it
    names must stay within the name rules (a package name of at most 40 characters).
    """
    return f"{case}-app" if len(case) <= 24 else "case-app"


def variants_of(template: Template) -> list[Variant]:
    """The template's default answers, then every variant it declares."""
    return [Variant(DEFAULT_VARIANT, {}), *template.declaration.variants]


class Space:
    """The template's questions as copier evaluates them: conditions, defaults, dimensions."""

    def __init__(self, template: Template, data: Mapping[str, Any]) -> None:
        self.template = template
        self.data = dict(data)
        try:
            self.rules = QuestionRules(template.loaded)
        except Exception as err:  # a missing Jinja extension, a broken envops
            raise TemplateError(f"cannot read the questions of {template.source}: {err}") from None
        self.order = list(template.loaded.questions)
        self.name_question = template.declaration.name_question

    def _safely(self, what: str, run: Any) -> Any:
        try:
            return run()
        except AsgigenError:
            raise
        except Exception as err:
            raise TemplateError(f"{self.template.source}: {what}: {err}") from None

    def answers(self, values: Mapping[str, Any], case: str | None = None) -> dict[str, Any]:
        """The full answer set: `values`, and every other question that applies at its default.

        The name question is answered with the project name `validate` gives case `case`.
        """
        if self.name_question is not None and case is not None:
            values = {self.name_question: project_name_for(case), **values}
        out: dict[str, Any] = {}
        context: dict[str, Any] = {}
        for name in self.order:
            if not self._applies(name, context):
                hidden = self.rules.default(name, context)
                if hidden is not None:
                    context[name] = hidden
                continue
            if name in values:
                value = values[name]
            elif name == self.name_question:
                continue  # no case yet: validate names each project after its case
            else:
                value = self.rules.default(name, context)
                if value is None:
                    continue
            out[name] = context[name] = value
        return out

    def missing(self, answer_sets: Sequence[Mapping[str, Any]]) -> list[str]:
        """Questions asked in some answer set with no default and no answer given."""
        needed = [
            name
            for name, spec in self.template.loaded.questions.items()
            if "default" not in spec and name != self.name_question
        ]
        found: list[str] = []
        for values in answer_sets:
            full = self.answers(values)
            context: dict[str, Any] = {}
            for name in self.order:
                if (
                    name in needed
                    and name not in values
                    and name not in found
                    and self._applies(name, context)
                ):
                    found.append(name)
                if name in full:
                    context[name] = full[name]
        return [name for name in self.order if name in found]

    def _applies(self, name: str, context: Mapping[str, Any]) -> bool:
        return bool(
            self._safely(f"the `when` of {name!r}", lambda: self.rules.applies(name, context))
        )

    def enumerate(self) -> tuple[list[answer_space.Dimension], list[dict[str, Any]]]:
        """The dimensions and every answer set they allow (conditions, validators and
        exclusions applied)."""
        template = self.template
        rules = answer_space.parse_rules(template.declaration.answer_space)
        dims = answer_space.dimensions(
            template.loaded.questions,
            {name: q.type for name, q in template.questions.items()},
            {name: q.choices for name, q in template.questions.items()},
            rules=rules,
            data=self.data,
        )
        fixed = self.answers(self.data)
        hidden = {
            name: spec["default"]
            for name, spec in template.loaded.questions.items()
            if "default" in spec and not isinstance(spec["default"], str)
        }
        hidden.update(fixed)
        rows = self._safely(
            "its questions' `when`",
            lambda: answer_space.enumerate_answer_sets(
                self.order,
                dims,
                fixed,
                self.rules.applies,
                hidden_defaults=hidden,
                refuses=lambda name, answers: bool(self.rules.refusal(name, answers)),
            ),
        )
        return dims, [row for row in rows if not rules.excludes(row)]


def select(template: Template, request: Request, console: Console) -> list[Case]:
    """The cases asked for, narrowed by the options, or the one --case names; then a shard."""
    if request.selection not in SELECTIONS:
        raise BadInputError(f"unknown selection {request.selection!r}")
    if request.variants and request.selection != "declared":
        raise BadInputError(
            f"--variant picks declared variants; --{request.selection} picks answer sets",
            hint="narrow --pairwise/--exhaustive with --style or --data KEY=VALUE",
        )
    if request.case is not None and request.shard is not None:
        raise BadInputError("--case runs one case; --shard a part of many", hint="give one")
    _check_styles(template, request.styles)

    request = replace(request, data=validate_answers(template.questions, request.data))
    space = Space(template, request.data)
    if request.case is not None:
        cases = _find_case(template, space, request)
    else:
        cases = _cases(template, space, request, request.selection, request.servers)
        cases = _narrow_by_style(template, cases, request.styles)
        if not cases:
            raise BadInputError(
                "no case matches the options (validating nothing would pass)",
                hint="list them with `asgigen validate --list`",
            )
    require_answers(template, space, [case.data for case in cases], "to every variant")
    if request.shard is not None:
        cases = shard_cases(cases, *request.shard, durations=request.durations)
    return cases


def require_answers(
    template: Template, space: Space, answer_sets: Sequence[Mapping[str, Any]], whom: str = ""
) -> None:
    """Every question these answer sets leave without a value or a default, named in one
    error with the `--data` line that supplies each (copier would name one at a time)."""
    missing = space.missing(answer_sets)
    if missing:
        raise BadInputError(
            f"template {template.source} needs answers it has no default for: "
            + ", ".join(missing),
            hint=f"pass them{' ' + whom if whom else ''}: "
            + " ".join(f"--data {name}={_example(template, name)}" for name in missing),
        )


def _example(template: Template, name: str) -> str:
    question = template.questions.get(name)
    if question is not None and question.choices:
        return str(question.choices[0])
    if question is not None and question.type == "bool":
        return "true"
    return "VALUE"


def _cases(
    template: Template, space: Space, request: Request, selection: str, servers: list[str]
) -> list[Case]:
    if selection == "declared":
        known = variants_of(template)
        names = {variant.name for variant in known}
        for name in request.variants:
            if name not in names:
                raise BadInputError(
                    f"template {template.source} has no variant {name!r}",
                    hint=f"its variants: {', '.join(sorted(names))}",
                )
        cases: list[Case] = []
        for variant in known:
            if request.variants and variant.name not in request.variants:
                continue
            clash = [
                k for k, v in variant.data.items() if k in request.data and request.data[k] != v
            ]
            if clash:  # --data pins a value this variant changes: it is not in the space
                continue
            data = {**request.data, **variant.data}
            answers = space.answers(data, variant.name)
            cases.extend(Case(variant.name, server, data, answers) for server in servers)
        return cases
    dims, rows = space.enumerate()
    row_names = answer_space.case_names(rows, dims)
    rules = answer_space.parse_rules(template.declaration.answer_space)
    grid = [
        (name, row, server)
        for name, row in zip(row_names, rows, strict=True)
        for server in servers
        if not rules.excludes({**row, answer_space.SERVER: server})
    ]
    if selection == "pairwise":
        picked = answer_space.pairwise([{**row, answer_space.SERVER: s} for _, row, s in grid])
        grid = [grid[i] for i in picked]
    cases = []
    for name, row, server in grid:
        data = {**request.data, **row}
        cases.append(Case(name, server, data, space.answers(data, name)))
    return cases


def _find_case(template: Template, space: Space, request: Request) -> list[Case]:
    """--case NAME: a case of the selection asked for, else of the other (any server).

    A declared variant and an answer set may share a name with different answers: `--case`
    with `--pairwise` or `--exhaustive` means the answer set, without them the variant.
    """
    every = list(SERVERS)
    order = ("declared", "exhaustive") if request.selection == "declared" else ("exhaustive",)
    for selection in order:
        plain = Request(data=request.data)
        chosen = [
            c for c in _cases(template, space, plain, selection, every) if c.name == request.case
        ]
        if chosen:
            return chosen[:1]
    raise BadInputError(
        f"template {template.source} has no case {request.case!r}",
        hint="list them with `asgigen validate --list` (or --list --pairwise / --exhaustive)",
    )


def _check_styles(template: Template, styles: list[str]) -> None:
    if not styles:
        return
    if "style" not in template.questions:
        raise BadInputError(
            f"--style is for templates that ask 'style'; {template.source} does not",
            hint="choose variants with --variant",
        )
    choices = template.questions["style"].choices
    for style in styles:
        if choices and style not in choices:
            # Else a typo selects no case, and validating nothing would pass.
            raise BadInputError(
                f"unknown style {style!r}",
                hint=f"choose from: {', '.join(str(c) for c in choices)}",
            )


def _narrow_by_style(template: Template, cases: list[Case], styles: list[str]) -> list[Case]:
    if not styles:
        return cases
    default = template.loaded.questions.get("style", {}).get("default")
    return [case for case in cases if case.answers.get("style", default) in styles]


def shard_cases(
    cases: list[Case], k: int, n: int, *, durations: Mapping[str, float] | None = None
) -> list[Case]:
    """Shard k of n: whole answer sets (rendered and tested once), balanced by duration."""
    durations = durations or {}
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.variant, []).append(case)
    weighted = []
    for name, members in groups.items():
        measured = [durations[c.name] for c in members if c.name in durations]
        weighted.append((name, sum(measured) if len(measured) == len(members) else None))
    mine = set(answer_space.shard(weighted, k, n))
    chosen = [case for case in cases if case.variant in mine]
    if not chosen:
        raise BadInputError(
            f"shard {k}/{n} has no case: the selection has {len(groups)} answer set(s)",
            hint=f"split it in at most {len(groups)} shards",
        )
    return chosen


def load_durations(paths: Sequence[Path], console: Console) -> dict[str, float]:
    """Case durations from earlier runs; a file not there yet only costs the balance."""
    documents = []
    for path in paths:
        if not path.exists():
            console.info(f"durations file {path} not found: shards balanced by count")
            continue
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise BadInputError(
                f"cannot read durations file {path}: {err}",
                hint="write one with `asgigen validate --durations-out FILE`",
            ) from None
    return answer_space.merge_durations(documents)
