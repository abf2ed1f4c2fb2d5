"""`asgigen explain`: the server command, app object and steps of a real project, with file:line.

The steps inside the app come from the project's contract ([[tool.asgigen.explain]]), which
the built-in template writes per style; asgigen's Python names none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import asgigen.explain
from asgigen import generate
from tests.conftest import CliResult
from tests.template_tree import build_file_tree

STYLES = ["raw", "routed", "fastapi"]
PLACE = re.compile(r"^   → (\S+):(\d+) (\w+)$", re.M)


def render(target: Path, style: str) -> Path:
    request = generate.GenerateRequest(target=target, style=style, defaults=True, interactive=False)
    return generate.new_project(request).path


def flat(text: str) -> str:
    """The text with its line wrapping undone, to look for sentences."""
    return " ".join(text.split())


def assert_places_are_real(project: Path, text: str) -> list[tuple[str, int, str]]:
    """Every `→ file:line symbol` in `text` points at the line that defines the symbol."""
    places = [(file, int(line), symbol) for file, line, symbol in PLACE.findall(text)]
    for file, line, symbol in places:
        source = (project / file).read_text(encoding="utf-8").splitlines()
        pattern = rf"^\s*((async\s+)?def|class)\s+{symbol}\b|^{symbol}\s*(:[^=]*)?="
        assert re.search(pattern, source[line - 1]), (file, line, symbol, source[line - 1])
    return places


@pytest.mark.parametrize("style", STYLES)
def test_a_style_is_explained_from_the_rendered_template(
    run_cli: Callable[..., CliResult], tmp_path: Path, style: str
) -> None:
    result = run_cli("explain", style, cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, "")
    text = result.stdout
    assert text.splitlines()[:2] == [
        f"How a request travels through a {style} project",
        f"(the built-in template's {style} style, rendered as the project demo)",
    ]
    assert all(len(line) <= 100 for line in text.splitlines())
    for word in ("Uvicorn", "httptools", "h11", "scope", "receive", "send", "more_body"):
        assert word in text
    # The real server command and app object, from the project's contract.
    assert (
        "The project starts Uvicorn with its own command, `python -m demo` (the run of its "
        "contract; it reads the address from DEMO_HOST and DEMO_PORT)."
    ) in flat(text)
    assert "   → src/demo/__main__.py\n" in text
    assert "demo.app:app (declared in pyproject.toml [tool.asgigen])" in flat(text)
    places = assert_places_are_real(render(tmp_path / "demo", style), text)
    assert places[0][0::2] == ("src/demo/app.py", "app")
    # The steps after the app are the template's (at least three per style), all still there...
    assert len(places) >= 4
    assert "not found" not in text
    # ...and none of their names is written in asgigen's Python.
    source = Path(asgigen.explain.__file__).read_text(encoding="utf-8")
    for _, _, symbol in places[1:]:
        assert not re.search(rf"\b{symbol}\b", source), symbol


def test_a_renamed_handler_is_reported_not_dropped(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    project = render(tmp_path / "tour", "routed")
    app_py = project / "src" / "tour" / "app.py"
    app_py.write_text(
        re.sub(r"\bitem\b", "get_item", app_py.read_text(encoding="utf-8")), encoding="utf-8"
    )
    result = run_cli("explain", str(project))
    assert (result.exit_code, result.stderr) == (0, "")
    text = result.stdout
    assert text.startswith(f"How a request travels through the project {project}\n")
    step = text.split("router → handler\n", 1)[1].split("\n\n", 1)[0]
    assert step.splitlines()[-1] == (
        "   → src/tour/app.py: item not found (no def or class item in it)"
    )
    assert (
        "1 step above names code the project no longer has: update [[tool.asgigen.explain]] in "
        "pyproject.toml."
    ) in flat(text)
    # The other places are still found, at their current lines.
    assert len(assert_places_are_real(project, text)) >= 4


def test_steps_the_owner_adds_are_shown_with_their_line(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    project = render(tmp_path / "tour", "raw")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + "\n[[tool.asgigen.explain]]\n"
        + 'title = "settings"\n'
        + 'text = "Settings.from_env reads TOUR_* variables."\n'
        + 'file = "src/tour/settings.py"\n'
        + 'symbol = "from_env"\n',
        encoding="utf-8",
    )
    text = run_cli("explain", str(project)).stdout
    settings = (project / "src" / "tour" / "settings.py").read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(settings.splitlines(), 1) if "def from_env(" in text)
    assert (
        "9. settings\n"
        "   Settings.from_env reads TOUR_* variables.\n"
        f"   → src/tour/settings.py:{line} from_env\n"
    ) in text


def foreign_template(root: Path) -> Path:
    """A team's template that knows nothing of asgigen: no contract, no `_asgigen`."""
    return build_file_tree(
        root / "team-template",
        {
            "copier.yml": """
                service_name:
                  type: str
                  default: orders
            """,
            "pyproject.toml.jinja": """
                [project]
                name = "{{ service_name }}"
                version = "1.0"
            """,
            "svc/__init__.py": "",
            "svc/main.py.jinja": '''
                """The {{ service_name }} service."""

                NAME = b"{{ service_name }}"


                async def app(scope, receive, send):
                    await send({"type": "http.response.start", "status": 200, "headers": []})
                    await send({"type": "http.response.body", "body": NAME})
            ''',
        },
    )


def test_a_project_from_a_foreign_template_names_its_discovered_app(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    request = generate.GenerateRequest(
        target=tmp_path / "orders",
        template=foreign_template(tmp_path),
        data={"service_name": "orders"},
        defaults=True,
        interactive=False,
    )
    project = generate.new_project(request).path
    result = run_cli("explain", "orders", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, "")
    text = result.stdout
    assert text.startswith("How a request travels through the project orders\n")
    assert "Uvicorn serves it with `uvicorn svc.main:app`." in flat(text)
    assert "4. ASGI → app\n" in text
    assert "svc.main:app (found by asgigen)" in flat(text)
    assert "   → svc/main.py:6 app\n" in text
    assert assert_places_are_real(project, text) == [("svc/main.py", 6, "app")]
    assert "5. response → client\n" in text
    assert (
        "This project declares no steps inside its app. Its template or owner can add them to "
        "its contract as [[tool.asgigen.explain]] entries"
    ) in flat(text)


def test_a_project_without_an_app_says_how_to_declare_one(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "lib"\n', encoding="utf-8")
    result = run_cli("explain", str(tmp_path))
    assert result.exit_code == 0
    assert (
        "No ASGI app was found: asgigen looks for `app` in app.py, main.py or asgi.py under "
        "src/<package>/, <package>/ and the project root. To have it named here, declare it in "
        'pyproject.toml: [tool.asgigen] app = "package.module:app"'
    ) in flat(result.stdout)
    assert "Uvicorn would serve it as `uvicorn module:app` once its app is known." in flat(
        result.stdout
    )


def test_no_argument_inside_a_project_explains_that_project(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    project = render(tmp_path / "tour", "fastapi")
    result = run_cli("explain", cwd=project / "src" / "tour")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(f"How a request travels through the project {project}\n")
    assert "`python -m tour`" in flat(result.stdout)
    places = assert_places_are_real(project, result.stdout)
    assert places[0][0::2] == ("src/tour/app.py", "app")


def test_no_argument_outside_a_project_explains_the_default_style(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = run_cli("explain", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:3] == [
        "How a request travels through a routed project",
        "(not inside a project, so the default; give a project's directory or a style to choose)",
        "(the built-in template's routed style, rendered as the project demo)",
    ]


def test_a_directory_that_is_no_python_project_is_a_one_line_error(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = run_cli("explain", "/etc", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: /etc is not a Python project (no pyproject.toml, no ASGI app)",
        "hint: give a project's directory (asgigen explain ./myproject) or a style: raw, "
        "routed, fastapi",
    ]


def test_unknown_style_is_exit_2(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli("explain", "django", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        "error: 'django' is neither a style nor a project directory"
    )


def test_a_malformed_step_is_named(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.asgigen]\napp = "app:app"\n\n[[tool.asgigen.explain]]\ntitle = "router"\n',
        encoding="utf-8",
    )
    result = run_cli("explain", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {tmp_path.name}: pyproject.toml: explain[0]: a step needs a title and a text"
    ]


def test_styles_are_the_choices_of_the_templates_style_question(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("styles").stdout.splitlines() == [
        "raw      a bare ASGI application class, no framework",
        "routed   raw ASGI plus a small router and middleware",
        "fastapi  a FastAPI service with an app factory and Uvicorn config",
    ]
    # A style added to copier.yml is listed without touching asgigen's Python.
    (tmp_path / "copier.yml").write_text(
        "style:\n  type: str\n  choices:\n"
        '    "raw: by hand": raw\n'
        '    "htmx: server-rendered pages with htmx": htmx\n',
        encoding="utf-8",
    )
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: tmp_path)
    assert run_cli("styles").stdout.splitlines() == [
        "raw   by hand",
        "htmx  server-rendered pages with htmx",
    ]
