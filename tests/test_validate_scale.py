"""`validate --pairwise/--exhaustive/--shard/--data`: the cases listed, for the built-in
template and for a small template written here (three choice questions, a conditional one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import combinations, product
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult
from tests.template_tree import QUESTIONS, small_template

ROOT = Path(__file__).resolve().parent.parent

Run = Callable[..., CliResult]
Pair = tuple[tuple[str, str], ...]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return small_template(tmp_path / "template")


def listed(run_cli: Run, *args: str) -> list[dict[str, Any]]:
    result = run_cli("validate", "--list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["include"]
    entries: list[dict[str, Any]] = data["include"]
    return entries


def pairs(entries: list[dict[str, Any]]) -> set[Pair]:
    """Every value, and every pair of values, that some case holds (its server included)."""
    found: set[Pair] = set()
    for entry in entries:
        items = sorted(
            [(key, json.dumps(value)) for key, value in entry["answers"].items()]
            + [("@server", entry["server"])]
        )
        found.update((item,) for item in items)
        found.update(combinations(items, 2))
    return found


# Each case names its own project, and the package name follows from it: not answers to cover.
NAMES = {"project_name", "package_name", "service_name"}


def varying_pairs(entries: list[dict[str, Any]]) -> set[Pair]:
    """The pairs of answers (and servers) a selection covers, the projects' names left out."""
    return {pair for pair in pairs(entries) if not any(key in NAMES for key, _ in pair)}


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries]


# --- the built-in template


def config() -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(
        (ROOT / "templates" / "copier.yml").read_text(encoding="utf-8")
    )
    return loaded


def declared_variants() -> dict[str, dict[str, Any]]:
    variants: dict[str, dict[str, Any]] = config()["_asgigen"]["variants"]
    return variants


def takes_fastapi(answers: dict[str, Any]) -> bool:
    """A declared variant `--data style=fastapi` keeps: it answers fastapi, or not at all."""
    return answers.get("style", "fastapi") == "fastapi"


# One shard more than the declared answer sets (the defaults and each variant): it has none.
EMPTY = len(declared_variants()) + 2


def choices(question: str) -> list[Any]:
    """A question's values as the built-in template's copier.yml lists them."""
    spec = config()[question]
    if spec["type"] == "bool":
        return [True, False]
    values = spec["choices"]
    return list(values.values() if isinstance(values, dict) else values)


def refused(answers: dict[str, Any]) -> bool:
    """What the `deploy` validator refuses: a deployment with no image to run, or several
    instances sharing one SQLite file."""
    return answers["deploy"] != "none" and (
        not answers["docker"] or answers.get("database") == "sqlite"
    )


def possible_answer_sets() -> list[dict[str, Any]]:
    """Every answer set copier renders: `database` is asked only for fastapi (its `when`),
    and the `deploy` validator refuses some combinations."""
    found = []
    for style, python, docker, deploy, ci in product(
        choices("style"), choices("python_version"), choices("docker"), choices("deploy"),
        choices("ci"),
    ):  # fmt: skip
        base = {"style": style, "python_version": python, "docker": docker, "deploy": deploy}
        databases = choices("database") if style == "fastapi" else [None]
        for database in databases:
            answers = {**base, "ci": ci, **({} if database is None else {"database": database})}
            if not refused(answers):
                found.append(answers)
    return found


def test_exhaustive_lists_every_possible_answer_set_and_nothing_impossible(run_cli: Run) -> None:
    every = listed(run_cli, "--exhaustive", "--server", "all")
    assert len(every) == len(possible_answer_sets()) * 4  # each under the 4 servers
    assert len(set(names(every))) == len(every)
    for entry in every:
        answers = entry["answers"]
        assert not refused(answers), answers
        assert entry["case"] == entry["name"] == f"{entry['variant']}@{entry['server']}"
        assert ("database" in answers) == (answers["style"] == "fastapi")
        assert answers["project_name"].endswith("-app")
        assert answers["package_name"] == answers["project_name"].replace("-", "_")


def test_pairwise_covers_every_pair_exhaustive_shows_in_a_third_of_the_cases(
    run_cli: Run,
) -> None:
    every = listed(run_cli, "--exhaustive", "--server", "all")
    cover = listed(run_cli, "--pairwise", "--server", "all")
    assert varying_pairs(cover) == varying_pairs(every)
    assert len(cover) <= len(every) / 3
    by_name = {entry["name"]: entry for entry in every}
    for entry in cover:  # each a case of the whole space, with the same answers
        assert by_name[entry["name"]] == entry
    assert listed(run_cli, "--pairwise", "--server", "all") == cover  # deterministic


@pytest.mark.parametrize("selection", [[], ["--pairwise"], ["--exhaustive"]])
def test_three_shards_are_disjoint_and_make_the_whole(run_cli: Run, selection: list[str]) -> None:
    whole = names(listed(run_cli, *selection, "--server", "all"))
    parts = [
        names(listed(run_cli, *selection, "--server", "all", "--shard", f"{k}/3"))
        for k in (1, 2, 3)
    ]
    assert all(parts)
    assert sorted(name for part in parts for name in part) == sorted(whole)
    for part in parts:
        assert part == [name for name in whole if name in part]  # in the selection's order
    # Whole answer sets go to one shard: each is rendered and tested once.
    variants = [{name.split("@")[0] for name in part} for part in parts]
    assert sum(len(v) for v in variants) == len(set().union(*variants))


def test_shards_balance_by_the_durations_of_an_earlier_run(run_cli: Run, tmp_path: Path) -> None:
    whole = names(listed(run_cli, "--pairwise", "--server", "all"))
    slow = whole[-1]
    durations = {"format": "asgigen-validate-durations/1", "cases": dict.fromkeys(whole, 1.0)}
    durations["cases"][slow] = float(len(whole))  # as long as all the others together
    record = tmp_path / "durations.json"
    record.write_text(json.dumps(durations))
    parts = [
        names(
            listed(
                run_cli, "--pairwise", "--server", "all", "--shard", f"{k}/2",
                "--durations", str(record), "--durations", str(tmp_path / "not-yet.json"),
            )
        )
        for k in (1, 2)
    ]  # fmt: skip
    alone = next(part for part in parts if slow in part)
    assert alone == [slow]  # the slow case takes one runner, every other case the other
    assert sorted(parts[0] + parts[1]) == sorted(whole)


@pytest.mark.parametrize("value", ["0/3", "4/3", "x", "1/0", "3"])
def test_a_bad_shard_is_one_line_and_a_hint(run_cli: Run, value: str, tmp_path: Path) -> None:
    result = run_cli("validate", "--pairwise", "--shard", value, cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: --shard {value!r} is not K/N with 1 <= K <= N"
    assert lines[1].startswith("hint: e.g. --shard 1/3")
    assert len(lines) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pairwise", "--exhaustive"], "error: --pairwise and --exhaustive pick different"),
        (["--pairwise", "--variant", "raw"], "error: --variant picks declared variants"),
        (["--case", "raw@uvicorn", "--shard", "1/2"], "error: --case runs one case"),
        (["--list", "--shard", f"{EMPTY}/{EMPTY}"], f"error: shard {EMPTY}/{EMPTY} has no"),
        (["--list", "--data", "colour=red"], "error: unknown question 'colour'"),
        (["--list", "--data", "style=django"], "error: answer 'style' must be one of"),
        (["--list", "--durations", "."], "error: cannot read durations file ."),
    ],
)
def test_bad_selections(run_cli: Run, args: list[str], message: str) -> None:
    result = run_cli("validate", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_data_pins_an_answer_in_every_case(run_cli: Run) -> None:
    cover = listed(run_cli, "--pairwise", "--data", "style=fastapi", "--data", "docker=no")
    assert cover
    assert {entry["answers"]["style"] for entry in cover} == {"fastapi"}
    assert {entry["answers"]["docker"] for entry in cover} == {False}
    assert {entry["answers"]["database"] for entry in cover} == {"sqlite", "postgres", "none"}
    # Declared variants that answer otherwise are not in the pinned space; the rest take it.
    declared = listed(run_cli, "--data", "style=fastapi")
    taking = [name for name, answers in declared_variants().items() if takes_fastapi(answers)]
    assert {"fastapi", "fastapi-postgres", "fastapi-nodb", "fastapi-awkward"} <= set(taking)
    assert "raw" not in taking
    assert {entry["variant"] for entry in declared} == {"default", *taking}
    assert all(entry["answers"]["style"] == "fastapi" for entry in declared)


def test_style_narrows_any_selection(run_cli: Run) -> None:
    cover = listed(run_cli, "--pairwise", "--style", "raw", "--server", "all")
    assert {entry["answers"]["style"] for entry in cover} == {"raw"}
    assert {entry["server"] for entry in cover} == {"uvicorn", "hypercorn", "daphne", "granian"}


# --- a small template with three choice questions and a conditional one


def test_small_template_pairwise_covers_exhaustive_in_a_third(run_cli: Run, small: Path) -> None:
    every = listed(run_cli, "--template", str(small), "--exhaustive", "--server", "all")
    # plain: 3 greetings x 2 levels x shout; json: the same x 2 indents; x 4 servers.
    assert len(every) == (3 * 2 * 2 + 3 * 2 * 2 * 2) * 4
    assert all(
        ("indent" in entry["answers"]) == (entry["answers"]["flavour"] == "json") for entry in every
    )
    cover = listed(run_cli, "--template", str(small), "--pairwise", "--server", "all")
    assert varying_pairs(cover) == varying_pairs(every)
    assert len(cover) <= len(every) / 3
    parts = [
        names(
            listed(run_cli, "--template", str(small), "--pairwise", "--server", "all",
                   "--shard", f"{k}/3")
        )
        for k in (1, 2, 3)
    ]  # fmt: skip
    flat = [name for part in parts for name in part]
    assert sorted(flat) == sorted(names(cover))


def test_template_pins_and_exclusions_shape_the_space(run_cli: Run, tmp_path: Path) -> None:
    questions = QUESTIONS.replace(
        "      name_question: service_name\n",
        "      name_question: service_name\n"
        "      answer_space:\n"
        "        pin: {greeting: [hello, hi]}\n"
        "        exclude:\n"
        "          - {flavour: json, server: daphne}\n"
        "          - {flavour: plain, shout: true}\n",
    )
    template = small_template(tmp_path / "template", questions)
    every = listed(run_cli, "--template", str(template), "--exhaustive", "--server", "all")
    assert {entry["answers"]["greeting"] for entry in every} == {"hello", "hi"}
    assert not [e for e in every if e["answers"]["flavour"] == "json" and e["server"] == "daphne"]
    assert not [e for e in every if e["answers"]["flavour"] == "plain" and e["answers"]["shout"]]
    # plain: 2 greetings x 2 levels x 4 servers; json: 2 x 2 x 2 indents x shout x 3 servers.
    assert len(every) == 2 * 2 * 4 + 2 * 2 * 2 * 2 * 3
    cover = listed(run_cli, "--template", str(template), "--pairwise", "--server", "all")
    assert varying_pairs(cover) == varying_pairs(every)


def test_a_conditional_question_pinned_by_data_applies_only_where_asked(
    run_cli: Run, small: Path
) -> None:
    every = listed(run_cli, "--template", str(small), "--exhaustive", "--data", "indent=2")
    assert len(every) == 3 * 2 * 2 * 2
    for entry in every:
        assert entry["answers"].get("indent") == (
            2 if entry["answers"]["flavour"] == "json" else None
        )


REQUIRED = (
    QUESTIONS
    + """
    owner:
      type: str
      help: Who runs the service
    team:
      type: str
      when: "{{ flavour == 'json' }}"
    region:
      type: str
      choices: [eu, us]
"""
)


def test_every_missing_answer_is_named_in_one_message(run_cli: Run, tmp_path: Path) -> None:
    template = small_template(tmp_path / "template", REQUIRED)
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("validate", "--template", str(template), cwd=work)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: template {template} needs answers it has no default for: owner, region",
        "hint: pass them to every variant: --data owner=VALUE --data region=eu",
    ]
    assert list(work.iterdir()) == []  # nothing rendered
    # `team` is asked only for the json flavour: with it, it is missing too.
    result = run_cli("validate", "--template", str(template), "--list", "--exhaustive")
    assert result.exit_code == 2
    assert "needs answers it has no default for: owner, team" in result.stderr
    assert "--data owner=VALUE --data team=VALUE" in result.stderr  # region varies there


def test_data_and_data_file_supply_the_missing_answers(run_cli: Run, tmp_path: Path) -> None:
    template = small_template(tmp_path / "template", REQUIRED)
    answers = tmp_path / "answers.yml"
    answers.write_text("owner: ops\nteam: core\n")
    every = listed(
        run_cli, "--template", str(template), "--exhaustive", "--data-file", str(answers),
        "--data", "owner=platform",
    )  # fmt: skip
    assert {entry["answers"]["owner"] for entry in every} == {"platform"}  # --data wins
    assert {entry["answers"].get("team") for entry in every} == {"core", None}
    assert {entry["answers"]["region"] for entry in every} == {"eu", "us"}
    declared = listed(
        run_cli, "--template", str(template), "--data", "owner=ops", "--data", "region=us"
    )
    assert names(declared) == ["default@uvicorn"]
    assert declared[0]["answers"]["service_name"] == "default-app"


def test_case_means_the_answer_set_of_the_selection_it_comes_from(
    run_cli: Run, tmp_path: Path
) -> None:
    questions = QUESTIONS.replace(
        "      name_question: service_name\n",
        "      name_question: service_name\n"
        "      variants:\n"
        "        hi: {greeting: hi, level: debug}\n",
    )
    template = small_template(tmp_path / "template", questions)
    declared = listed(run_cli, "--template", str(template), "--case", "hi@daphne")
    assert declared[0]["answers"]["level"] == "debug"
    generated = listed(run_cli, "--template", str(template), "--pairwise", "--case", "hi@daphne")
    assert generated[0]["answers"]["level"] == "info"
    assert names(declared) == names(generated) == ["hi@daphne"]


def test_listing_a_template_with_jinja_extensions_needs_trust(run_cli: Run, tmp_path: Path) -> None:
    questions = "    _jinja_extensions: [jinja2.ext.do]\n" + QUESTIONS.lstrip("\n")
    template = small_template(tmp_path / "template", questions)
    refused = run_cli("validate", "--template", str(template), "--list", "--pairwise")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        f"error: template {template} runs code when rendered (_jinja_extensions)",
        "hint: read its copier.yml, then pass --trust if you trust it",
    ]
    trusted = run_cli("validate", "--template", str(template), "--list", "--pairwise", "--trust")
    assert trusted.exit_code == 0, trusted.stderr


def test_help_names_the_new_options(run_cli: Run) -> None:
    result = run_cli("validate", "--help")
    assert result.exit_code == 0
    for option in (
        "--pairwise",
        "--exhaustive",
        "--shard",
        "--durations",
        "--durations-out",
        "--data",
        "--data-file",
    ):
        assert option in result.stdout
