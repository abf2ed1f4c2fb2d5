"""A team's own copier template, sharing nothing with asgigen's: its own questions, routes and
layout. Release v1, and v2 (which adds `GET /v1/version`), as dicts of files; as a git
repository tagged v1.0.0 and v2.0.0 with `make_template_repo`."""

from __future__ import annotations

from pathlib import Path

from tests.template_tree import build_file_tree, release_repo

V1: dict[str, str] = {
    "copier.yml": """
        _answers_file: .copier-answers.yml
        _asgigen:
          name_question: service_name
          variants:
            # No [tool.asgigen] table: asgigen must find the app by itself.
            bare: {with_contract: false}

        service_name:
          type: str
          help: Name of the service
          validator: >-
            {% if not (service_name | regex_search('^[a-z][a-z0-9-]*$'))
            %}service_name: lowercase letters, digits and '-'{% endif %}

        module_name:
          type: str
          help: Python module of the service
          default: "{{ service_name | replace('-', '_') }}_svc"

        pong:
          type: str
          help: What /ping answers
          default: pong

        with_contract:
          type: bool
          help: Declare what asgigen checks in pyproject.toml
          default: true
    """,
    "{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "README.md.jinja": """
        # {{ service_name }}

        Run it with `uvicorn {{ module_name }}.main:app`.
    """,
    "pyproject.toml.jinja": """
        [project]
        name = "{{ service_name }}"
        version = "1.0.0"
        requires-python = ">=3.11"
        dependencies = []

        [project.optional-dependencies]
        test = ["pytest>=8"]

        [tool.pytest.ini_options]
        pythonpath = ["."]
        {%- if with_contract %}

        [tool.asgigen]
        app = "{{ module_name }}.main:app"
        pythonpath = ["."]
        ready = "/ping"

        [[tool.asgigen.http]]
        path = "/ping"
        body = "{{ pong }}"

        [[tool.asgigen.http]]
        path = "/v1/users/7"
        json = { id = 7 }
        {%- endif %}
    """,
    "{{ module_name }}/__init__.py": "",
    "{{ module_name }}/main.py.jinja": '''
        """{{ service_name }}: a plain ASGI service."""

        import json

        PONG = b"{{ pong }}"


        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            path = scope["path"]
            if path == "/ping":
                status, body, kind = 200, PONG, b"text/plain"
            elif path.startswith("/v1/users/") and path[10:].isdigit():
                body = json.dumps({"id": int(path[10:])}).encode()
                status, kind = 200, b"application/json"
            else:
                status, body, kind = 404, b"not found", b"text/plain"
            headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
    ''',
    "tests/test_main.py.jinja": """
        import asyncio

        from {{ module_name }}.main import app


        def call(path):
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                sent.append(message)

            asyncio.run(app({"type": "http", "path": path, "method": "GET"}, receive, send))
            return sent[0]["status"], sent[1]["body"]


        def test_ping():
            assert call("/ping") == (200, b"{{ pong }}")


        def test_user():
            assert call("/v1/users/7") == (200, b'{"id": 7}')
    """,
}

# v2: GET /v1/version with its probe, a line in the README, version 2.0.0.
V2: dict[str, str] = {
    **V1,
    "README.md.jinja": """
        # {{ service_name }}

        Run it with `uvicorn {{ module_name }}.main:app`.

        Version 2 adds `GET /v1/version`.
    """,
    "pyproject.toml.jinja": """
        [project]
        name = "{{ service_name }}"
        version = "2.0.0"
        requires-python = ">=3.11"
        dependencies = []

        [project.optional-dependencies]
        test = ["pytest>=8"]

        [tool.pytest.ini_options]
        pythonpath = ["."]
        {%- if with_contract %}

        [tool.asgigen]
        app = "{{ module_name }}.main:app"
        pythonpath = ["."]
        ready = "/ping"

        [[tool.asgigen.http]]
        path = "/ping"
        body = "{{ pong }}"

        [[tool.asgigen.http]]
        path = "/v1/version"
        body = "2"

        [[tool.asgigen.http]]
        path = "/v1/users/7"
        json = { id = 7 }
        {%- endif %}
    """,
    "{{ module_name }}/main.py.jinja": '''
        """{{ service_name }}: a plain ASGI service."""

        import json

        PONG = b"{{ pong }}"


        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            path = scope["path"]
            if path == "/ping":
                status, body, kind = 200, PONG, b"text/plain"
            elif path == "/v1/version":
                status, body, kind = 200, b"2", b"text/plain"
            elif path.startswith("/v1/users/") and path[10:].isdigit():
                body = json.dumps({"id": int(path[10:])}).encode()
                status, kind = 200, b"application/json"
            else:
                status, body, kind = 404, b"not found", b"text/plain"
            headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
    ''',
}

RELEASES = {"v1.0.0": V1, "v2.0.0": V2}


def write_team_template(root: Path, files: dict[str, str] = V1) -> Path:
    """The team template (v1 unless `files` says) as a plain directory at `root`."""
    return build_file_tree(root, files)


def make_template_repo(root: Path) -> Path:
    """The team template as a git repository at root/team-template: v1 tagged v1.0.0, then v2
    tagged v2.0.0."""
    return release_repo(root / "team-template", RELEASES)
