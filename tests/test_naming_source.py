"""asgigen's naming rules are the template's: one source, `_partials/naming.jinja`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgigen import naming
from asgigen.template import builtin_template


@pytest.fixture
def edited_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the built-in template's naming partial that asgigen reads instead."""
    partial = tmp_path / naming.NAMING_PARTIAL
    partial.parent.mkdir(parents=True)
    shutil.copyfile(builtin_template() / naming.NAMING_PARTIAL, partial)
    monkeypatch.setattr(naming, "builtin_template", lambda: tmp_path)
    naming._rules.cache_clear()
    yield partial
    naming._rules.cache_clear()


def test_a_rule_changed_in_the_template_changes_asgigens_check(edited_template: Path) -> None:
    assert naming.package_name_error("shopkeeper") == ""
    text = edited_template.read_text(encoding="utf-8")
    edited_template.write_text(
        text.replace('"anyio", "asgigen",', '"anyio", "asgigen", "shopkeeper",'), encoding="utf-8"
    )
    naming._rules.cache_clear()
    assert "shopkeeper" in naming.RESERVED_PACKAGES
    assert naming.package_name_error("shopkeeper") == (
        "package name 'shopkeeper' would shadow the package 'shopkeeper' the project depends on"
    )


def test_names_of_a_newer_python_are_refused_on_any_python() -> None:
    # The template's lists cover 3.11 to 3.14; so does asgigen's up-front check.
    assert "Python keyword" in naming.package_name_error("type")
    assert "standard library module 'annotationlib'" in naming.package_name_error("annotationlib")


def test_the_rule_sets_are_read_from_the_template() -> None:
    assert sorted(naming.LAYOUT_NAMES) == ["docs", "src", "test", "tests"]
    assert {"fastapi", "starlette"} <= naming.FASTAPI_ONLY_PACKAGES <= naming.RESERVED_PACKAGES
    with pytest.raises(AttributeError):
        _ = naming.NO_SUCH_LIST
