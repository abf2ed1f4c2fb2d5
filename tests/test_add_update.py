"""Additions outlive updates: a tiny git template with a generator, tagged v1 and v2, whose v2
changes the file the addition touched (issue 29 item 4). The template has no tests and no app,
so a verified update would be red by design: these tests update with --no-verify and look at
the merge alone (tests/test_verified_update.py proves updates)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen.contract import load_contract
from tests.conftest import CliResult
from tests.template_tree import release_repo
from tests.test_update import commit_all

Cli = Callable[..., CliResult]

COPIER_YML = """\
_answers_file: .copier-answers.yml
_exclude: [copier.yml, _generators, .git]
_asgigen:
  generators:
    route:
      path: _generators/route
      arguments: [path]
project_name: {type: str, default: svc}
"""
GENERATOR_YML = "path: {type: str}\n"
ADD_PLAN = """\
[[insert]]
file = "{{ routes_file }}"
anchor = "# asgigen: routes"
text = '''
    "{{ path }}": "added",
'''

[[contract.http]]
path = "{{ path }}"
"""
PYPROJECT = '[project]\nname = "svc"\n\n[tool.asgigen]\napp = "app:app"\n'
APP_V1 = '''"""The service, version 1."""

ROUTES = {
    "/": "home",
    # asgigen: routes
}
'''
# v2 changes the file the addition touched, away from the addition...
APP_V2 = APP_V1.replace("version 1", "version 2") + '\nFOOTER = "v2"\n'
# ...or right where it sits.
APP_V2_CLASH = APP_V1.replace('    "/": "home",\n', '    "/": "home page",\n')


def make_template(
    root: Path,
    app_v2: str,
    routes_file_v2: str = "app.py",
    pyproject: str = PYPROJECT,
    app_v1: str = APP_V1,
) -> Path:
    def release(app: str, routes_file: str) -> dict[str, str]:
        files = {
            "copier.yml": COPIER_YML,
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
            "pyproject.toml": pyproject,
            routes_file: app,
            "_generators/route/copier.yml": GENERATOR_YML,
            "_generators/route/asgigen-add.toml.jinja": ADD_PLAN.replace(
                "{{ routes_file }}", routes_file
            ),
        }
        if routes_file != "app.py":
            files["app.py"] = '"""The service."""\n\nfrom routes import ROUTES\n'
        return files

    return release_repo(
        root / "template",
        {"v1": release(app_v1, "app.py"), "v2": release(app_v2, routes_file_v2)},
    )


def made_with_route(run_cli: Cli, tmp_path: Path, template: Path) -> Path:
    project = tmp_path / "svc"
    made = run_cli(
        "new", str(project), "--template", str(template), "--vcs-ref", "v1", "--defaults",
        "--no-check",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    added = run_cli("add", "route", "/greet", cwd=project)
    assert added.exit_code == 0, added.stderr
    commit_all(project, "add route /greet")
    return project


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_update_keeps_the_addition_when_the_release_changes_its_file(
    run_cli: Cli, tmp_path: Path
) -> None:
    project = made_with_route(run_cli, tmp_path, make_template(tmp_path, APP_V2))

    result = run_cli("update", str(project), "--no-verify")

    assert result.exit_code == 0, result.stdout + result.stderr
    app = (project / "app.py").read_text()
    assert '"""The service, version 2."""' in app  # the release's change
    assert '    "/greet": "added",\n    # asgigen: routes\n' in app  # the addition
    contract = load_contract(project)
    assert [probe.path for probe in contract.http] == ["/greet"]
    assert contract.additions == (("route", {"path": "/greet"}),)


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_a_release_changing_the_addition_s_lines_is_a_conflict(
    run_cli: Cli, tmp_path: Path
) -> None:
    project = made_with_route(run_cli, tmp_path, make_template(tmp_path, APP_V2_CLASH))

    result = run_cli("update", str(project), "--no-verify")

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "app.py" in result.stdout + result.stderr


@pytest.mark.parametrize("routes_file", ["routes.py"])
@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_a_release_moving_the_anchor_gets_the_addition_there(
    run_cli: Cli, tmp_path: Path, routes_file: str
) -> None:
    template = make_template(tmp_path, APP_V1, routes_file_v2=routes_file)
    project = made_with_route(run_cli, tmp_path, template)

    run_cli("update", str(project), "--no-verify")

    # The release's generator puts the route where the release keeps routes now.
    assert '    "/greet": "added",\n    # asgigen: routes\n' in (project / routes_file).read_text()
    assert [probe.path for probe in load_contract(project).http] == ["/greet"]


def test_a_project_without_a_contract_gets_one_with_the_probe(run_cli: Cli, tmp_path: Path) -> None:
    app = APP_V1 + "\n\nasync def app(scope: object, receive: object, send: object) -> None: ...\n"
    pyproject = '[project]\nname = "svc"\n'
    template = make_template(tmp_path, app + "# v2\n", pyproject=pyproject, app_v1=app)
    project = made_with_route(run_cli, tmp_path, template)

    contract = load_contract(project)

    assert contract.source == "asgigen.toml"
    assert contract.app == "app:app"
    assert [probe.path for probe in contract.http] == ["/greet"]
    assert contract.additions == (("route", {"path": "/greet"}),)
