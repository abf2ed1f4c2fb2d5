"""released_filters.py is the FROZEN copy of the filters template 0.1.0 loads: it must keep
rendering old releases as they were released, whatever today's naming rules say."""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import pytest

from asgigen.template_history import released_filters

# Its bytes as frozen. A change here means old releases may render differently: don't.
FROZEN_SHA256 = "ba6f06aaf3b1658694d0ddd4a1751a59fc3ebf7f1816c7127c617699675e905b"


def test_the_file_is_unchanged() -> None:
    data = Path(released_filters.__file__).read_bytes()
    assert hashlib.sha256(data).hexdigest() == FROZEN_SHA256


SHADOW = "package name 'fastapi' would shadow the package 'fastapi' the project depends on"


@pytest.mark.parametrize(
    ("filter_name", "value", "expected"),
    [
        # Where the released rules differ from today's (asgigen.naming), the old answer stands.
        ("project_name_error", "demo\n", ""),  # `$`, not `\Z`: one trailing newline passed
        ("package_name_error", "fastapi", SHADOW),  # no style: every style refused it
        ("derive_package_name", "My--Shop..x", "my_shop_x"),
        ("python_string", 'a"b', "'a\"b'"),
        ("toml_string", "é\n", '"é\\n"'),
        ("markdown_inline", "a_b\n c", "a\\_b c"),
        ("port_error", True, "port True is not a whole number"),
    ],
)
def test_old_releases_filters_answer_as_released(
    filter_name: str, value: object, expected: str
) -> None:
    assert released_filters.FILTERS[filter_name](value) == expected


def test_it_registers_under_the_released_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, released_filters.RELEASED_NAME, raising=False)
    released_filters.register()
    module = importlib.import_module(released_filters.RELEASED_NAME)
    assert module.AsgigenFilters is released_filters.AsgigenFilters
