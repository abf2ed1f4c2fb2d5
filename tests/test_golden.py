"""Golden files: the exact file set of each style, and the rendered text of key files.

Regenerate after an intended template change with
`ASGIGEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff like any other code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asgigen import generate

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("ASGIGEN_UPDATE_GOLDEN"))
STYLES = ["raw", "routed", "fastapi"]
VARIANTS = {"default": {}, "minimal": {"docker": False, "ci": False}}
KEY_FILES = ["pyproject.toml", ".copier-answers.yml", "src/demo/__main__.py"]


def render(tmp_path: Path, style: str, data: dict[str, object]) -> generate.GenerateResult:
    request = generate.GenerateRequest(
        target=tmp_path / "demo", style=style, data=dict(data), defaults=True, interactive=False
    )
    return generate.new_project(request)


def compare(golden: Path, actual: str) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"missing golden file {golden}; run with ASGIGEN_UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("style", STYLES)
def test_exact_file_set(tmp_path: Path, style: str, variant: str) -> None:
    result = render(tmp_path, style, VARIANTS[variant])
    on_disk = sorted(str(p.relative_to(result.path)) for p in result.path.rglob("*") if p.is_file())
    assert on_disk == result.files
    # Missing and extra files both fail: the list is compared whole.
    compare(GOLDEN / f"{style}-{variant}.files", "\n".join(on_disk) + "\n")


@pytest.mark.parametrize("style", STYLES)
def test_key_files_render_as_golden(tmp_path: Path, style: str) -> None:
    result = render(tmp_path, style, {})
    for name in KEY_FILES:
        compare(GOLDEN / style / name, (result.path / name).read_text(encoding="utf-8"))
