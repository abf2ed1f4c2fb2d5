"""The answer space's pure logic: dimensions, conditions, the pairwise cover, shards."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from asgigen import answer_space
from asgigen.answer_space import Dimension, Rules
from asgigen.errors import BadInputError, TemplateError

QUESTIONS: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "style": {"type": "str", "default": "routed", "choices": ["raw", "routed", "fastapi"]},
    "database": {
        "type": "str",
        "default": "sqlite",
        "choices": ["sqlite", "postgres", "none"],
        "when": "{{ style == 'fastapi' }}",
    },
    "docker": {"type": "bool", "default": True},
    "tags": {"type": "str", "choices": ["a", "b"], "multiselect": True},
}
KINDS = {"name": "str", "style": "str", "database": "str", "docker": "bool", "tags": "str"}
CHOICES = {
    "style": ("raw", "routed", "fastapi"),
    "database": ("sqlite", "postgres", "none"),
    "tags": ("a", "b"),
}


def applies(name: str, answers: Mapping[str, Any]) -> bool:
    """The `when` of QUESTIONS, as copier would evaluate it."""
    return name != "database" or answers.get("style") == "fastapi"


def space(
    rules: Rules | None = None, data: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    dims = answer_space.dimensions(
        QUESTIONS, KINDS, CHOICES, rules=rules or Rules(), data=data or {}
    )
    return answer_space.enumerate_answer_sets(list(QUESTIONS), dims, dict(data or {}), applies)


def test_dimensions_are_choices_and_bools_default_first() -> None:
    dims = answer_space.dimensions(QUESTIONS, KINDS, CHOICES, rules=Rules(), data={})
    assert dims == [
        Dimension("style", ("routed", "raw", "fastapi")),
        Dimension("database", ("sqlite", "postgres", "none")),
        Dimension("docker", (True, False)),
    ]


def test_pins_and_data_narrow_the_dimensions() -> None:
    rules = Rules(pin={"database": ("sqlite", "none")})
    dims = answer_space.dimensions(QUESTIONS, KINDS, CHOICES, rules=rules, data={"docker": False})
    assert dims == [
        Dimension("style", ("routed", "raw", "fastapi")),
        Dimension("database", ("sqlite", "none")),
    ]


def test_a_pin_to_a_value_the_question_does_not_offer_is_an_error() -> None:
    with pytest.raises(TemplateError, match="mysql"):
        answer_space.dimensions(
            QUESTIONS, KINDS, CHOICES, rules=Rules(pin={"database": ("mysql",)}), data={}
        )
    with pytest.raises(TemplateError, match="colour"):
        answer_space.dimensions(
            QUESTIONS, KINDS, CHOICES, rules=Rules(pin={"colour": ("red",)}), data={}
        )


def test_a_conditional_question_varies_only_where_it_is_asked() -> None:
    rows = space()
    # raw and routed: docker x 2; fastapi: 3 databases x docker 2.
    assert len(rows) == 2 + 2 + 6
    assert all(("database" in row) == (row["style"] == "fastapi") for row in rows)
    assert rows[0] == {"style": "routed", "docker": True}  # the defaults come first


def test_hidden_defaults_are_what_later_conditions_see() -> None:
    seen: list[Mapping[str, Any]] = []

    def record(name: str, answers: Mapping[str, Any]) -> bool:
        if name == "docker":
            seen.append(dict(answers))
        return applies(name, answers)

    dims = [Dimension("style", ("raw",)), Dimension("database", ("sqlite",))]
    answer_space.enumerate_answer_sets(
        ["style", "database", "docker"], dims, {}, record, hidden_defaults={"database": "sqlite"}
    )
    assert seen == [{"style": "raw", "database": "sqlite"}]


def test_exclusions_drop_matching_answer_sets() -> None:
    rules = answer_space.parse_rules({"exclude": [{"style": "raw", "docker": False}]})
    rows = [row for row in space(rules) if not rules.excludes(row)]
    assert {"style": "raw", "docker": False} not in rows
    assert {"style": "raw", "docker": True} in rows
    assert len(rows) == 9


def test_too_large_a_space_asks_for_pins() -> None:
    dims = [Dimension(f"q{i}", (True, False)) for i in range(8)]
    with pytest.raises(BadInputError, match="more than 100") as caught:
        answer_space.enumerate_answer_sets(
            [d.name for d in dims], dims, {}, lambda *_: True, limit=100
        )
    assert caught.value.hint is not None
    assert "--data" in caught.value.hint


def all_pairs(rows: list[Mapping[str, Any]]) -> set[tuple[tuple[str, str], ...]]:
    return set(answer_space.iter_pairs(rows))


@pytest.mark.parametrize(("servers", "fewest"), [(1, 10), (4, 20)])
def test_pairwise_covers_every_pair_that_occurs_with_few_rows(servers: int, fewest: int) -> None:
    rows = [{**row, "server": s} for row in space() for s in range(servers)]
    picked = answer_space.pairwise(rows)
    chosen = [rows[i] for i in picked]
    assert all_pairs(chosen) == all_pairs(rows)
    # The fewest possible: database x docker (or x server) needs every fastapi row of that
    # product, raw and routed one row per docker (or server) value each.
    assert len(picked) == fewest
    assert picked == sorted(set(picked))
    assert answer_space.pairwise(rows) == picked  # deterministic


def test_pairwise_of_a_large_product_is_small() -> None:
    dims = {f"q{i}": ["a", "b", "c"] for i in range(6)}
    rows = [dict(zip(dims, values, strict=True)) for values in itertools.product(*dims.values())]
    picked = answer_space.pairwise(rows)
    assert all_pairs([rows[i] for i in picked]) == all_pairs(rows)
    assert len(picked) <= 20  # of 729 (a perfect cover needs 9)


def test_pairwise_covers_single_values_and_degenerate_spaces() -> None:
    rows: list[Mapping[str, Any]] = [{"only": 1}, {"only": 2}, {"only": 3}]
    assert answer_space.pairwise(rows) == [0, 1, 2]
    assert answer_space.pairwise([{}]) == [0]
    assert answer_space.pairwise([]) == []


def test_case_names_read_as_the_values_that_differ_from_the_defaults() -> None:
    dims = [
        Dimension("style", ("routed", "raw")),
        Dimension("python_version", ("3.11", "3.12")),
        Dimension("docker", (True, False)),
        Dimension("ci", (False, True)),
    ]
    rows = [
        {"style": "routed", "python_version": "3.11", "docker": True, "ci": False},
        {"style": "raw", "python_version": "3.12", "docker": False, "ci": True},
    ]
    assert answer_space.case_names(rows, dims) == [
        "default",
        "raw-python-version-3-12-no-docker-ci",
    ]


def test_case_names_tell_apart_questions_sharing_a_value() -> None:
    dims = [Dimension("front", ("none", "react")), Dimension("back", ("none", "postgres"))]
    rows = [{"front": "react", "back": "none"}, {"front": "none", "back": "postgres"}]
    assert answer_space.case_names(rows, dims) == ["react", "postgres"]
    dims = [Dimension("front", ("react", "none")), Dimension("back", ("postgres", "none"))]
    rows = [{"front": "none", "back": "none"}]
    assert answer_space.case_names(rows, dims) == ["front-none-back-none"]


@pytest.mark.parametrize("text", ["1/1", "2/3", " 3 / 3 "])
def test_parse_shard_accepts_k_of_n(text: str) -> None:
    k, n = answer_space.parse_shard(text)
    assert 1 <= k <= n


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "-1/3", "1/3/5", "", "1.5/3"])
def test_parse_shard_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInputError, match="K/N") as caught:
        answer_space.parse_shard(text)
    assert caught.value.hint is not None
    assert "--shard 1/3" in caught.value.hint


def shards(groups: list[tuple[str, float | None]], n: int) -> list[list[str]]:
    return [answer_space.shard(groups, k, n) for k in range(1, n + 1)]


def test_shards_are_disjoint_make_the_whole_and_balance_by_count() -> None:
    groups: list[tuple[str, float | None]] = [(f"g{i}", None) for i in range(10)]
    parts = shards(groups, 3)
    flat = [name for part in parts for name in part]
    assert sorted(flat) == sorted(name for name, _ in groups)
    assert len(flat) == len(set(flat))
    assert sorted(len(part) for part in parts) == [3, 3, 4]
    for part in parts:  # each shard keeps the selection's order
        assert part == sorted(part, key=lambda g: int(g[1:]))


def test_shards_balance_by_measured_duration() -> None:
    groups: list[tuple[str, float | None]] = [("slow", 10.0)] + [(f"f{i}", 1.0) for i in range(10)]
    parts = shards(groups, 2)
    loads = [sum(dict(groups)[name] or 0 for name in part) for part in parts]
    assert sorted(loads) == [10.0, 10.0]
    by_count = shards([(name, None) for name, _ in groups], 2)
    assert sorted(len(part) for part in by_count) == [5, 6]


def test_unmeasured_groups_count_as_the_median() -> None:
    groups: list[tuple[str, float | None]] = [("a", 4.0), ("b", 4.0), ("c", None), ("d", 1.0)]
    parts = shards(groups, 2)
    # c weighs 4 (the median of 4, 4, 1): a and b split, c joins a, d the lighter b.
    assert sorted(sorted(part) for part in parts) == [["a", "c"], ["b", "d"]]
    groups[2] = ("c", 0.5)  # measured and light, it goes last, to the lighter side
    assert sorted(sorted(part) for part in shards(groups, 2)) == [["a", "d"], ["b", "c"]]


def test_merge_durations_reads_what_durations_out_writes() -> None:
    merged = answer_space.merge_durations(
        [{"cases": {"a@uvicorn": 1.5, "b@uvicorn": 2}}, {"cases": {"b@uvicorn": 3.0, "x": "?"}}]
    )
    assert merged == {"a@uvicorn": 1.5, "b@uvicorn": 3.0}
    with pytest.raises(BadInputError, match="cases"):
        answer_space.merge_durations([["not", "a", "mapping"]])


def test_parse_rules_checks_its_shape() -> None:
    rules = answer_space.parse_rules({"pin": {"a": [1, 2], "b": "x"}, "exclude": [{"a": 1}]})
    assert rules.pin == {"a": (1, 2), "b": ("x",)}
    assert rules.excludes({"a": 1, "b": "y"})
    assert not rules.excludes({"a": 2})
    assert not rules.excludes({"b": "x"})  # an exclusion needs every value it names
    for bad in ([1], {"pins": {}}, {"pin": [1]}, {"exclude": {"a": 1}}, {"exclude": [{}]}):
        with pytest.raises(TemplateError):
            answer_space.parse_rules(bad)


def test_case_names_are_unique_when_values_differ_only_in_punctuation() -> None:
    dims = [Dimension("tag", ("x", "a b", "a-b", "a.b"))]
    rows = [{"tag": "a b"}, {"tag": "a-b"}, {"tag": "a.b"}]
    assert answer_space.case_names(rows, dims) == ["a-b", "a-b-2", "a-b-3"]
