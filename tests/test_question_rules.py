"""copier's own `when` and defaults, evaluated through the adapter for the answer space."""

from __future__ import annotations

from pathlib import Path

from asgigen.copier_adapter import QuestionRules
from asgigen.template import load
from tests.template_tree import build_file_tree

QUESTIONS = """
    name:
      type: str
    flavour:
      type: str
      default: json
      choices: [plain, json, jsonl]
    indent:
      type: int
      default: 2
      # An Ansible filter copier's Jinja environment ships: only copier's own evaluation
      # knows it.
      when: "{{ flavour | regex_search('^json') }}"
    module:
      type: str
      default: "{{ name | replace('-', '_') }}_svc"
    always:
      type: bool
      default: true
      when: true
"""


def test_conditions_and_defaults_are_copiers(tmp_path: Path) -> None:
    template = build_file_tree(tmp_path / "t", {"copier.yml": QUESTIONS})
    with load(str(template)) as loaded:
        rules = QuestionRules(loaded.loaded)
        assert rules.applies("indent", {"flavour": "json"})
        assert rules.applies("indent", {"flavour": "jsonl"})
        assert not rules.applies("indent", {"flavour": "plain"})
        assert rules.applies("always", {})
        assert rules.default("module", {"name": "my-app"}) == "my_app_svc"
        assert rules.default("module", {"name": "other"}) == "other_svc"  # not a stale cache
        assert rules.default("indent", {"flavour": "json"}) == 2
        assert rules.default("name", {}) is None  # no default
