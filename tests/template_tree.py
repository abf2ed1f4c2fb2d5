"""Templates written inline by tests: a dict of files becomes a directory tree."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path


def build_file_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write each `relative path: text` under `root` (dedented), as copier's tests do."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def release_repo(repo: Path, releases: Mapping[str, Mapping[str, str]]) -> Path:
    """A git repository at `repo` (branch main) with one commit per release, in order, each
    holding exactly that release's files (`build_file_tree`) and tagged with its name."""
    repo.mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "--quiet", "--initial-branch=main")
    for tag, files in releases.items():
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        build_file_tree(repo, files)
        git("add", "--all")
        git("commit", "--quiet", "-m", f"release {tag}")
        git("tag", tag)
    return repo


# Three choice questions, one question asked only for one of them (`indent`, for the json
# flavour), and a bool: 2 x 3 x 2 answer sets for `plain`, times 2 more for `json`, x 2.
QUESTIONS = """
    _answers_file: .copier-answers.yml
    _asgigen:
      name_question: service_name
    service_name:
      type: str
      help: Name of the service
    flavour:
      type: str
      default: plain
      choices: [plain, json]
    greeting:
      type: str
      default: hello
      choices: [hello, hi, hey]
    level:
      type: str
      default: info
      choices: [info, debug]
    indent:
      type: int
      default: 0
      choices: [0, 2]
      when: "{{ flavour == 'json' }}"
    shout:
      type: bool
      default: false
"""

SERVICE = '''
    """{{ service_name }}: a plain ASGI service."""

    import json

    GREETING = "{{ greeting|upper if shout else greeting }}"


    def body() -> bytes:
    {%- if flavour == 'json' %}
        return json.dumps({"greeting": GREETING}, indent={{ indent }}).encode()
    {%- else %}
        return GREETING.encode()
    {%- endif %}


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, data = (200, body()) if scope["path"] == "/hello" else (404, b"not found")
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
'''

PYPROJECT = """
    [project]
    name = "{{ service_name }}"
    version = "1.0.0"
    requires-python = ">=3.11"
    dependencies = []

    [project.optional-dependencies]
    test = ["pytest>=8"]

    [tool.pytest.ini_options]
    pythonpath = ["."]

    [tool.asgigen]
    app = "service.main:app"
    pythonpath = ["."]
    ready = "/hello"

    [[tool.asgigen.http]]
    path = "/hello"
    status = 200
"""

TESTS = """
    import asyncio

    from service.main import app, body


    def test_hello():
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": "/hello", "method": "GET"}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 200
        assert sent[1]["body"] == body()
"""


def small_template(root: Path, questions: str = QUESTIONS) -> Path:
    """A small template whose every answer set renders a project that passes `check`."""
    return build_file_tree(
        root,
        {
            "copier.yml": questions,
            "service/__init__.py": "",
            "service/main.py.jinja": SERVICE,
            "pyproject.toml.jinja": PYPROJECT,
            "tests/test_service.py": TESTS,
            "{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
        },
    )
