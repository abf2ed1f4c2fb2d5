"""A project that declares no contract boots under a real server and passes on what asgigen
could prove about it (asgigen/discovery.py): the boot's verdict and its summary."""

from __future__ import annotations

import sys
from pathlib import Path

from asgigen import check
from asgigen.servers import SERVERS
from tests.inline_projects import write_files

APP = """\
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    status = 200 if scope["path"] in ("/", "/health") else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def test_an_undeclared_app_boots_and_passes_on_what_was_discovered(tmp_path: Path) -> None:
    write_files(tmp_path, {"main.py": APP, "pyproject.toml": '[project]\nname = "p"\n'})
    project = check.open_project(tmp_path)
    assert (project.contract.declared, project.contract.app) == (False, "main:app")
    step = check.boot(sys.executable, project, SERVERS["uvicorn"])
    assert step.status == "passed", step.summary + step.output
    assert step.summary.endswith("GET /health 200, discovered, not declared")
