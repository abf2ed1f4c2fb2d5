"""`asgigen explain` on a project whose declared app is in no file is an error, not exit 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.inline_projects import write_files


def test_a_declared_app_whose_file_is_missing_is_an_error(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    project = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\n\n[tool.asgigen]\napp = "shop.app:app"\n',
            "src/shop/__init__.py": "",
            "src/shop/main.py": "app = None\n",
        },
    )
    result = run_cli("explain", str(project))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: shop: the app shop.app:app (pyproject.toml [tool.asgigen]) is in no file: "
        "there is no module shop.app under src, .",
        "hint: restore the module, or name the app where it now is in pyproject.toml "
        "[tool.asgigen]",
    ]


def test_a_declared_app_in_a_src_layout_without_pythonpath_is_found(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    # The check imports from src when the contract names no python path: explain looks there too.
    project = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\n\n[tool.asgigen]\napp = "shop.app:app"\n',
            "src/shop/__init__.py": "",
            "src/shop/app.py": "import os\n\napp = None\n",
        },
    )
    result = run_cli("explain", str(project))
    assert (result.exit_code, result.stderr) == (0, "")
    assert "   → src/shop/app.py:3 app\n" in result.stdout
