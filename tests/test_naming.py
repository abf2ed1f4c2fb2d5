from __future__ import annotations

import pytest

from asgigen import naming


@pytest.mark.parametrize(
    ("name", "expected"),
    [("demo", "demo"), ("my-shop", "my_shop"), ("My.Shop", "my_shop"), ("a--b", "a_b")],
)
def test_derive_package_name(name: str, expected: str) -> None:
    assert naming.derive_package_name(name) == expected


@pytest.mark.parametrize("name", ["demo", "my-shop", "shop2", "A.b_c"])
def test_good_project_names(name: str) -> None:
    assert naming.project_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1shop", "starts with a digit"),
        ("../x", "is a path"),
        ("/abs", "is a path"),
        ("..", "is a path"),
        ("shop!", "may only contain"),
        ("shop-", "may only contain"),
        ("café", "may only contain"),
        ("-shop", "may only contain"),
    ],
)
def test_bad_project_names(name: str, fragment: str) -> None:
    assert fragment in naming.project_name_error(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("asyncio", "standard library"),
        ("json", "standard library"),
        ("fastapi", "depends on"),
        ("test", "reserved for the project layout"),
        ("src", "reserved for the project layout"),
        ("uvicorn", "depends on"),
        ("1abc", "starts with a digit"),
        ("My_pkg", "not a valid import name"),
        ("my-pkg", "not a valid import name"),
    ],
)
def test_bad_package_names(name: str, fragment: str) -> None:
    assert fragment in naming.package_name_error(name)


@pytest.mark.parametrize(
    ("port", "ok"),
    [
        (1, True),
        (8000, True),
        (65535, True),
        (0, False),
        (65536, False),
        ("80", False),
        (True, False),
    ],
)
def test_port_rule(port: object, ok: bool) -> None:
    assert (naming.port_error(port) == "") is ok


def test_a_package_name_of_up_to_40_characters_can_be_chosen() -> None:
    assert naming.package_name_length_error("p" * 40) == ""
    assert "is longer than 40 characters" in naming.package_name_length_error("p" * 41)
