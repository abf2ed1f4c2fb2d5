"""`new --defaults` with a template whose questions have no defaults: every missing answer
named in one error, each with its `--data` line (as `validate` does), and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.template_tree import build_file_tree

COPIER = """
    _answers_file: .copier-answers.yml
    app_name:
      type: str
      help: Name of the service
    owner:
      type: str
    tier:
      type: str
      choices: [free, paid]
    debug:
      type: bool
      default: false
"""


def test_every_missing_answer_is_named_once_with_its_data_line(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    template = build_file_tree(
        tmp_path / "template",
        {
            "copier.yml": COPIER,
            "README.md.jinja": "{{ app_name }} by {{ owner }}\n",
            "pyproject.toml.jinja": '[project]\nname = "{{ app_name }}"\nversion = "0"\n',
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
        },
    )
    target = tmp_path / "svc"

    result = run_cli("new", str(target), "--template", str(template), "--defaults", "--no-git")

    assert result.exit_code == 2, result.stderr
    error, hint = result.stderr.strip().splitlines()[-2:]
    assert error == (
        f"error: template {template} needs answers it has no default for: app_name, owner, tier"
    )
    assert hint == "hint: pass them: --data app_name=VALUE --data owner=VALUE --data tier=free"
    assert not target.exists()

    given = run_cli(
        "new", str(target), "--template", str(template), "--defaults", "--no-git", "--no-check",
        "--data", "app_name=svc", "--data", "owner=ann", "--data", "tier=paid",
    )  # fmt: skip
    assert given.exit_code == 0, given.stderr
    assert (target / "README.md").read_text() == "svc by ann\n"
