"""A template's answer space: the answer sets its questions allow, a pairwise cover of them,
and a deterministic split of any list of cases into shards.

The dimensions are the choice questions and the yes/no questions; every other question keeps
one value (its `--data` answer or its default). A question whose copier `when` is false for an
answer set is not asked there, so it varies only where it applies. `_asgigen.answer_space`
in copier.yml, and `--data`, pin a dimension to some of its values or exclude combinations.

Pure logic: the caller passes copier's own evaluation of `when` in as a function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgigen.errors import BadInputError, TemplateError

SERVER = "server"  # the server as a dimension of a case (an `exclude` entry may name it)
MAX_ROWS = 100_000  # answer sets x servers enumerated before asking the user to pin some

# `applies(question, answers so far)`: copier's `when` for that question.
Applies = Callable[[str, Mapping[str, Any]], bool]
# `refuses(question, answers so far)`: copier's `validator` for that question rejects them.
Refuses = Callable[[str, Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Dimension:
    """A question that varies, with the values it takes (its default first)."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Rules:
    """What `_asgigen.answer_space` and `--data` say: pinned values, excluded combinations."""

    pin: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    exclude: tuple[Mapping[str, tuple[Any, ...]], ...] = ()

    def excludes(self, row: Mapping[str, Any]) -> bool:
        return any(
            all(key in row and row[key] in values for key, values in entry.items())
            for entry in self.exclude
        )


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def parse_rules(raw: Any, *, where: str = "_asgigen.answer_space") -> Rules:
    """`{pin: {question: value | [values]}, exclude: [{question: value | [values]}, ...]}`."""
    if raw is None:
        return Rules()
    if not isinstance(raw, dict):
        raise TemplateError(f"{where} must be a mapping with `pin` and/or `exclude`")
    unknown = sorted(set(raw) - {"pin", "exclude"})
    if unknown:
        raise TemplateError(
            f"{where} has an unknown key {unknown[0]!r}", hint="known: pin, exclude"
        )
    pin = raw.get("pin") or {}
    exclude = raw.get("exclude") or []
    if not isinstance(pin, dict):
        raise TemplateError(f"{where}.pin must map a question to a value or a list of values")
    if not isinstance(exclude, list) or not all(isinstance(e, dict) and e for e in exclude):
        raise TemplateError(f"{where}.exclude must be a list of mappings (question: value)")
    return Rules(
        {str(k): _as_tuple(v) for k, v in pin.items()},
        tuple({str(k): _as_tuple(v) for k, v in entry.items()} for entry in exclude),
    )


def dimensions(
    questions: Mapping[str, Mapping[str, Any]],
    kinds: Mapping[str, str],
    choices: Mapping[str, tuple[Any, ...]],
    *,
    rules: Rules,
    data: Mapping[str, Any],
) -> list[Dimension]:
    """The questions that vary, in questionnaire order, narrowed by pins and `--data`.

    A question answered by `--data` does not vary. Multiple-choice (`multiselect`) questions
    and choices computed by Jinja keep one value: their power sets are not an answer space
    anyone means to test.
    """
    found = []
    for name, spec in questions.items():
        if name in data or spec.get("multiselect") or isinstance(spec.get("choices"), str):
            continue
        if kinds[name] == "bool":
            values: tuple[Any, ...] = (True, False)
        elif choices.get(name):
            values = choices[name]
        else:
            continue
        default = spec.get("default")
        if default in values:  # the default first: the first case reads as the defaults
            values = (default, *(v for v in values if v != default))
        if name in rules.pin:
            unknown = [v for v in rules.pin[name] if v not in values]
            if unknown:
                raise TemplateError(
                    f"_asgigen.answer_space pins {name} to {unknown[0]!r}, not one of its "
                    f"values: {', '.join(map(str, values))}"
                )
            values = tuple(v for v in values if v in rules.pin[name])
        found.append(Dimension(name, values))
    for name in rules.pin:
        if name not in questions:
            raise TemplateError(
                f"_asgigen.answer_space pins {name!r}, which copier.yml does not ask"
            )
    return found


def enumerate_answer_sets(
    order: Sequence[str],
    dims: Sequence[Dimension],
    fixed: Mapping[str, Any],
    applies: Applies,
    *,
    hidden_defaults: Mapping[str, Any] | None = None,
    refuses: Refuses | None = None,
    limit: int = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Every answer set the dimensions allow, walking the questions in order as copier does.

    `order` is every question; `fixed` holds the value of each question that does not vary.
    A question is asked only where `applies` says so; an unasked question leaves no answer,
    but its default (`hidden_defaults`) is still what later conditions see, as in copier.
    A value the question's validator refuses (`refuses`, given the answers so far and that
    value, as copier checks an answer when it asks) is not an answer set copier can render.
    Returned: each answer set's dimension values (only those asked), in questionnaire order.
    """
    by_name = {dim.name: dim for dim in dims}
    hidden = hidden_defaults or {}
    found: list[dict[str, Any]] = []

    def walk(index: int, context: dict[str, Any], chosen: dict[str, Any]) -> None:
        if index == len(order):
            found.append(dict(chosen))
            if len(found) > limit:
                raise BadInputError(
                    f"the template's answer space has more than {limit} answer sets",
                    hint="pin some questions with --data KEY=VALUE or _asgigen.answer_space.pin",
                )
            return
        name = order[index]
        if not applies(name, context):
            if name in hidden:
                context = {**context, name: hidden[name]}
            walk(index + 1, context, chosen)
            return
        if name not in by_name:
            if name in fixed:
                context = {**context, name: fixed[name]}
            walk(index + 1, context, chosen)
            return
        for value in by_name[name].values:
            asked = {**context, name: value}
            if refuses is not None and refuses(name, asked):
                continue
            walk(index + 1, asked, {**chosen, name: value})

    walk(0, {}, {})
    return found


def _items(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(key, repr(value)) for key, value in row.items()]


def pairs_of(row: Mapping[str, Any]) -> set[tuple[tuple[str, str], ...]]:
    """What a row covers: each of its values alone, and each pair of values."""
    items = _items(row)
    covered: set[tuple[tuple[str, str], ...]] = {(item,) for item in items}
    covered.update((a, b) for i, a in enumerate(items) for b in items[i + 1 :])
    return covered


def pairwise(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices of a small subset of `rows` covering every value pair any row holds.

    Greedy set cover (Chvátal): repeatedly take the row that covers most pairs not yet
    covered, the earliest row on a tie, until every pair is covered. The rows are the valid
    answer sets (conditions and exclusions already applied), so a pair that can occur is
    always covered and no impossible row is ever picked. Deterministic; within a factor
    ln(pairs) + 1 of the smallest cover.
    """
    index: dict[tuple[tuple[str, str], ...], int] = {}
    masks = []
    for row in rows:
        mask = 0
        for pair in pairs_of(row):
            mask |= 1 << index.setdefault(pair, len(index))
        masks.append(mask)
    uncovered = (1 << len(index)) - 1
    chosen: list[int] = []
    while uncovered:
        gains = [(mask & uncovered).bit_count() for mask in masks]
        best = max(range(len(masks)), key=lambda i: (gains[i], -i))
        chosen.append(best)
        uncovered &= ~masks[best]
    if not chosen and rows:
        chosen.append(0)  # nothing varies: the one answer set is the cover
    return sorted(chosen)


def case_names(rows: Sequence[Mapping[str, Any]], dims: Sequence[Dimension]) -> list[str]:
    """A readable name per answer set: the values that differ from the defaults.

    `fastapi-postgres-no-docker`; the all-defaults set is `default`. A value that starts with
    a digit, or that another question also takes, is prefixed with its question's name.
    """
    slugs: dict[str, dict[str, str]] = {}
    seen: dict[str, int] = {}
    for dim in dims:
        slugs[dim.name] = {repr(v): _slug(v) for v in dim.values if not isinstance(v, bool)}
        for slug in set(slugs[dim.name].values()):
            seen[slug] = seen.get(slug, 0) + 1
    defaults = {dim.name: dim.values[0] for dim in dims}
    names = []
    for row in rows:
        tokens = []
        for key, value in row.items():
            if key not in defaults or value == defaults[key]:
                continue
            if isinstance(value, bool):
                tokens.append(_slug(key) if value else f"no-{_slug(key)}")
                continue
            slug = slugs[key].get(repr(value), _slug(value))
            if not slug[:1].isalpha() or seen.get(slug, 0) > 1:
                slug = f"{_slug(key)}-{slug}"
            tokens.append(slug)
        names.append("-".join(tokens) or "default")
    seen_names: dict[str, int] = {}
    for i, name in enumerate(names):  # values that differ only in punctuation: still unique
        seen_names[name] = seen_names.get(name, 0) + 1
        if seen_names[name] > 1:
            names[i] = f"{name}-{seen_names[name]}"
    return names


def _slug(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "x"


# --- shards


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match:
        k, n = int(match[1]), int(match[2])
        if 1 <= k <= n:
            return k, n
    raise BadInputError(
        f"--shard {text!r} is not K/N with 1 <= K <= N",
        hint="e.g. --shard 1/3, --shard 2/3 and --shard 3/3 split the cases in three",
    )


def shard(groups: Sequence[tuple[str, float | None]], k: int, n: int) -> list[str]:
    """The names of the groups shard `k` of `n` runs, in their given order.

    Longest processing time first: groups sorted by duration (longest first, then name) each
    go to the shard with the least total so far (the lowest-numbered on a tie). A group with
    no measured duration counts as the median of the measured ones (1 when none is): with no
    durations at all this deals the groups out by count. Every shard computes the same
    assignment, so the N shards are disjoint and together are the whole.
    """
    known = sorted(d for _, d in groups if d is not None)
    typical = known[len(known) // 2] if known else 1.0
    weights = {name: (typical if d is None else d) for name, d in groups}
    loads = [0.0] * n
    owner: dict[str, int] = {}
    for name in sorted(weights, key=lambda g: (-weights[g], g)):
        target = min(range(n), key=lambda i: (loads[i], i))
        owner[name] = target
        loads[target] += weights[name]
    return [name for name, _ in groups if owner[name] == k - 1]


def merge_durations(documents: Iterable[Any]) -> dict[str, float]:
    """Case durations from `--durations-out` files: `{"cases": {"name@server": seconds}}`."""
    merged: dict[str, float] = {}
    for document in documents:
        cases = document.get("cases") if isinstance(document, dict) else None
        if not isinstance(cases, dict):
            raise BadInputError(
                'a durations file must hold {"cases": {"CASE": seconds, ...}}',
                hint="write one with `asgigen validate --durations-out FILE`",
            )
        for name, seconds in cases.items():
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                merged[str(name)] = float(seconds)
    return merged


def iter_pairs(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[tuple[str, str], ...]]:
    """Every value pair (and single value) the rows hold; for tests and reports."""
    for row in rows:
        yield from pairs_of(row)
