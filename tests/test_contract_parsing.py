"""Reading a contract: every value it declares reaches the check as written, and every value
that is not what the schema allows is refused in one line (templates/CONTRACT.md). These are
the unit tests scripts/mutate_decisions.py runs against mutants of asgigen/contract.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgigen.contract import (
    CONTRACT_FILE,
    Contract,
    HttpProbe,
    Service,
    expects_json,
    has_declared_contract,
    load_contract,
)
from asgigen.errors import BadInputError


def declared(tmp_path: Path, body: str) -> Contract:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n\n[tool.asgigen]\n' + body, encoding="utf-8"
    )
    return load_contract(tmp_path)


def refused(tmp_path: Path, body: str, message: str) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        declared(tmp_path, body)
    assert message in caught.value.message, caught.value.message
    return caught.value


def test_every_value_of_a_full_contract_is_read_as_written(tmp_path: Path) -> None:
    contract = declared(
        tmp_path,
        'app = "shop.app:app"\npythonpath = ["src", "lib"]\n'
        'run = ["python", "-m", "shop"]\nhost-env = "H"\nport-env = "P"\n'
        'env = { A = "1", B = 2 }\nready = "/readyz"\nliveness = "/livez"\n'
        'websocket-echo = ["/ws", "/chat"]\nsetup = ["python", "-m", "shop", "migrate"]\n'
        'services = { postgres = { url-env = "DB", test-url-env = "TEST_DB" } }\n\n'
        '[[tool.asgigen.additions]]\ngenerator = "route"\ndata = { path = "/x" }\n\n'
        '[[tool.asgigen.http]]\npath = "/"\n\n'
        '[[tool.asgigen.http]]\nmethod = "post"\npath = "/echo"\nstatus = 201\nbody = "b"\n'
        'contains = "c"\njson = { k = [1, "v"] }\nheaders = { Content-Type = "text/plain" }\n'
        'send = "hi ✓"\nsend-headers = { X-Token = "T" }\necho = true\n'
        'capture = { Item = "ID" }\n',
    )
    assert contract.source == "pyproject.toml [tool.asgigen]"
    assert contract.declared is True
    assert contract.app == "shop.app:app"
    assert contract.pythonpath == ("src", "lib")
    assert contract.run == ("python", "-m", "shop")
    assert (contract.host_env, contract.port_env) == ("H", "P")
    assert contract.env == (("A", "1"), ("B", "2"))
    assert (contract.ready, contract.liveness) == ("/readyz", "/livez")
    assert contract.websocket_echo == ("/ws", "/chat")
    assert contract.setup == ("python", "-m", "shop", "migrate")
    assert contract.services == (Service("postgres", "DB", "TEST_DB"),)
    assert contract.additions == (("route", {"path": "/x"}),)
    first, second = contract.http
    assert first == HttpProbe("GET", "/")
    assert not expects_json(first)
    assert second == HttpProbe(
        method="POST",
        path="/echo",
        status=201,
        body="b",
        contains="c",
        json={"k": [1, "v"]},
        headers=(("content-type", "text/plain"),),  # response header names: any case
        send="hi ✓".encode(),
        send_headers=(("x-token", "T"),),
        echo=True,
        capture=(("Item", "ID"),),  # names and keys of a capture keep their case
    )
    assert expects_json(second)


def test_what_a_contract_leaves_out_has_its_default(tmp_path: Path) -> None:
    contract = declared(tmp_path, 'app = "a:app"\n')
    assert contract == Contract(tmp_path, "pyproject.toml [tool.asgigen]", "a:app")
    assert contract.ready == "/"
    assert contract.liveness is None
    assert contract.run == ()
    probe = declared(tmp_path, 'app = "a:app"\nhttp = [{ path = "/" }]\n').http[0]
    assert (probe.method, probe.status, probe.echo, probe.send) == ("GET", 200, False, b"")
    assert (probe.body, probe.contains, probe.headers, probe.capture) == (None, None, (), ())


def test_json_null_and_false_are_expectations_too(tmp_path: Path) -> None:
    contract = declared(
        tmp_path,
        'app = "a:app"\nhttp = [{ path = "/", json = false }, { path = "/", json = [] }]\n',
    )
    assert [expects_json(probe) for probe in contract.http] == [True, True]
    assert [probe.json for probe in contract.http] == [False, []]


def test_run_as_one_string_is_split_like_a_shell(tmp_path: Path) -> None:
    contract = declared(tmp_path, 'run = "python -m \'my shop\'"\nhost-env = "H"\nport-env = "P"\n')
    assert contract.run == ("python", "-m", "my shop")
    assert contract.app is None
    one = declared(tmp_path, 'app = "a:app"\nwebsocket-echo = "/ws"\npythonpath = "src"\n')
    assert (one.websocket_echo, one.pythonpath) == (("/ws",), ("src",))


def test_asgigen_toml_is_read_when_pyproject_declares_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    assert not has_declared_contract(tmp_path)
    (tmp_path / CONTRACT_FILE).write_text('app = "b:app"\nready = "/r"\n', encoding="utf-8")
    assert has_declared_contract(tmp_path)
    contract = load_contract(tmp_path)
    assert (contract.app, contract.ready, contract.source) == ("b:app", "/r", CONTRACT_FILE)
    # pyproject.toml's table wins over the file.
    (tmp_path / "pyproject.toml").write_text('[tool.asgigen]\napp = "c:app"\n', encoding="utf-8")
    assert has_declared_contract(tmp_path)
    assert load_contract(tmp_path).app == "c:app"


def test_a_tool_table_that_is_not_a_table_is_not_a_contract(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\nasgigen = "yes"\n', encoding="utf-8")
    assert not has_declared_contract(tmp_path)
    assert load_contract(tmp_path).declared is False
    (tmp_path / "pyproject.toml").write_text("[tool.asgigen]\n", encoding="utf-8")
    assert has_declared_contract(tmp_path)  # declared, and empty: refused below
    with pytest.raises(BadInputError, match="declares neither app nor run"):
        load_contract(tmp_path)


def test_no_pyproject_and_no_contract_file_is_discovered(tmp_path: Path) -> None:
    assert not has_declared_contract(tmp_path)
    contract = load_contract(tmp_path)
    assert (contract.declared, contract.app) == (False, None)


def test_a_pyproject_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.asgigen\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="not valid TOML at"):
        load_contract(tmp_path)
    (tmp_path / "pyproject.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(BadInputError, match="not valid TOML at"):
        has_declared_contract(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('app = "shop"\n', "app = 'shop' is not 'module:attribute'"),
        ('app = "shop.app:app "\n', "is not 'module:attribute'"),
        ('app = " shop:app"\n', "is not 'module:attribute'"),
        ('app = "1shop:app"\n', "is not 'module:attribute'"),
        ("app = 3\n", "app must be text, got 3"),
        ('ready = "/"\n', "declares neither app nor run"),
        ('run = 3\nhost-env = "H"\nport-env = "P"\n', "run must be a command"),
        ('run = ["python", 1]\nhost-env = "H"\nport-env = "P"\n', "run must be a command"),
        ('run = ["python"]\nport-env = "P"\n', "run needs host-env and port-env"),
        ('run = ["python"]\nhost-env = "H"\n', "run needs host-env and port-env"),
        ('run = ["python"]\nhost-env = ""\nport-env = "P"\n', "run needs host-env and port-env"),
        ('app = "a:app"\nenv = ["A=1"]\n', "env must be a table"),
        ('app = "a:app"\nsetup = "migrate"\n', "setup must be a command"),
        ('app = "a:app"\nsetup = ["migrate", 1]\n', "setup must be a command"),
        ('app = "a:app"\nready = "health"\n', "ready must be a path starting with '/'"),
        ('app = "a:app"\nready = 1\n', "ready must be a path starting with '/', got 1"),
        ('app = "a:app"\nliveness = "livez"\n', "liveness must be a path"),
        ('app = "a:app"\nwebsocket-echo = ["ws"]\n', "websocket-echo must be a path"),
        ('app = "a:app"\nwebsocket-echo = [1]\n', "websocket-echo must be a list of strings"),
        ('app = "a:app"\npythonpath = {}\n', "pythonpath must be a list of strings"),
        ('app = "a:app"\nhttp = { path = "/" }\n', "http must be an array of tables"),
        ('app = "a:app"\nhttp = ["/"]\n', "http must be an array of tables"),
        ('app = "a:app"\nadditions = [1]\n', "additions must be an array of tables"),
        ('app = "a:app"\nadditions = [{ data = {} }]\n', "additions[0] needs generator"),
        ('app = "a:app"\nadditions = [{ generator = "r", data = 1 }]\n', "needs generator"),
    ],
)
def test_a_value_the_schema_does_not_allow_is_refused(
    tmp_path: Path, body: str, message: str
) -> None:
    refused(tmp_path, body, message)


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ("{}", "http[0]: path must be a path starting with '/', got None"),
        ('{ path = "x" }', "path must be a path starting with '/'"),
        ('{ path = "/", method = "FETCH" }', "http[0]: method 'FETCH' is not one of"),
        ('{ path = "/", status = "200" }', "status must be an HTTP status code, got '200'"),
        ('{ path = "/", status = true }', "status must be an HTTP status code, got True"),
        ('{ path = "/", status = 99 }', "got 99"),
        ('{ path = "/", status = 600 }', "got 600"),
        ('{ path = "/", send = 1 }', "send must be text"),
        ('{ path = "/", body = 1 }', "body must be text, got 1"),
        ('{ path = "/", contains = [] }', "contains must be text"),
        ('{ path = "/", headers = ["a"] }', "headers must be a table"),
        ('{ path = "/", send-headers = "a" }', "send-headers must be a table"),
        ('{ path = "/", capture = 1 }', "capture must be a table"),
        ('{ path = "/", expect = 200 }', "http[0]: unknown key 'expect'"),
    ],
)
def test_a_probe_the_schema_does_not_allow_is_refused(
    tmp_path: Path, probe: str, message: str
) -> None:
    refused(
        tmp_path,
        f'app = "a:app"\nhttp = [{{ path = "/" }}, {probe}]\n'.replace("http[0]", "http[1]"),
        message.replace("http[0]", "http[1]"),
    )


def test_a_refused_probe_names_the_known_keys(tmp_path: Path) -> None:
    err = refused(tmp_path, 'app = "a:app"\nhttp = [{ path = "/", b = 1, a = 2 }]\n', "'a'")
    assert err.hint is not None
    assert err.hint.startswith("known keys: body, capture, contains, echo, headers, json, method")


@pytest.mark.parametrize("status", [100, 599])
def test_the_status_codes_at_the_edges_are_accepted(tmp_path: Path, status: int) -> None:
    contract = declared(tmp_path, f'app = "a:app"\nhttp = [{{ path = "/", status = {status} }}]\n')
    assert contract.http[0].status == status


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_is_accepted_in_any_case(tmp_path: Path, method: str) -> None:
    probe = f'{{ path = "/", method = "{method.lower()}" }}'
    assert declared(tmp_path, f'app = "a:app"\nhttp = [{probe}]\n').http[0].method == method


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ('services = "postgres"', "services must be a table"),
        ('services = { redis = { url-env = "R" } }', "unknown service 'redis'"),
        ('services = { postgres = "DB" }', "services.postgres must be a table"),
        ('services = { postgres = { url = "DB" } }', "services.postgres: unknown key 'url'"),
        ("services = { postgres = {} }", "services.postgres needs url-env"),
        ('services = { postgres = { url-env = "" } }', "services.postgres needs url-env"),
        ("services = { postgres = { url-env = 1 } }", "url-env must be text"),
    ],
)
def test_a_service_the_schema_does_not_allow_is_refused(
    tmp_path: Path, services: str, message: str
) -> None:
    refused(tmp_path, f'app = "a:app"\n{services}\n', message)


def test_services_keep_their_order_and_an_optional_test_variable(tmp_path: Path) -> None:
    contract = declared(
        tmp_path,
        'app = "a:app"\nservices = { sqlite = { url-env = "S" }, postgres = { url-env = "P" } }\n',
    )
    assert contract.services == (Service("sqlite", "S"), Service("postgres", "P"))
    assert contract.services[0].test_url_env is None


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ('app = "shop"\n', 'for example app = "mypkg.app:app"'),
        ('ready = "/"\n', 'add app = "yourpkg.module:app"'),
        ('run = ["python"]\n', "asgigen starts the project on a free port by setting them"),
        ('app = "a:app"\nservices = { redis = {} }\n', "known services: postgres, sqlite"),
        (
            'app = "a:app"\nservices = { sqlite = { url-env = "S", x = 1 } }\n',
            "known keys: url-env, test-url-env",
        ),
    ],
)
def test_a_refusal_names_where_and_what_to_write(tmp_path: Path, body: str, hint: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.asgigen]\n" + body, encoding="utf-8")
    with pytest.raises(BadInputError) as caught:
        load_contract(tmp_path)
    assert caught.value.message.startswith(f"{tmp_path.name}: pyproject.toml [tool.asgigen]")
    assert caught.value.hint == hint


def test_a_refusal_in_asgigen_toml_names_that_file(tmp_path: Path) -> None:
    (tmp_path / CONTRACT_FILE).write_text('app = "a"\n', encoding="utf-8")
    with pytest.raises(BadInputError) as caught:
        load_contract(tmp_path)
    assert caught.value.message.startswith(f"{tmp_path.name}: asgigen.toml: app = 'a'")


def test_a_service_refusal_names_the_first_unknown_key(tmp_path: Path) -> None:
    refused(
        tmp_path,
        'app = "a:app"\nservices = { sqlite = { url-env = "S", b = 1, a = 2 } }\n',
        "services.sqlite: unknown key 'a'",
    )


def test_an_unknown_method_is_refused_listing_the_known_ones(tmp_path: Path) -> None:
    err = refused(tmp_path, 'app = "a:app"\nhttp = [{ path = "/", method = "GET2" }]\n', "GET2")
    listed = err.message.split("is not one of ")[1]
    assert set(listed.split(", ")) == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
