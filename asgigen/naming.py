"""The one rule set for project and package names, shared by asgigen and copier.yml."""

from __future__ import annotations

import keyword
import re
import sys

# PEP 508 distribution names, restricted to what also reads well as a directory name.
_PROJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*\Z")
_PACKAGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*\Z")

# Names the generated layout itself uses for directories next to the package.
LAYOUT_NAMES = frozenset({"src", "test", "tests", "docs"})

# Import names a generated package must not take: it would shadow what the project imports.
RESERVED_PACKAGES = frozenset(
    {
        "anyio",
        "asgigen",
        "copier",
        "daphne",
        "fastapi",
        "granian",
        "h11",
        "httpcore",
        "httptools",
        "httpx",
        "hypercorn",
        "hypothesis",
        "jinja2",
        "mypy",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "ruff",
        "starlette",
        "typer",
        "typing_extensions",
        "uvicorn",
        "uvloop",
        "watchfiles",
        "websockets",
    }
)


# Of those, the ones only a fastapi-style project depends on: a raw or routed project may take
# these names (asgigen new fastapi --style raw is fine).
FASTAPI_ONLY_PACKAGES = frozenset(
    {"fastapi", "httpcore", "httpx", "pydantic", "pydantic_settings", "starlette"}
)


# The longest import name the built-in template is proved against: every line that holds it
# keeps the layout ruff gives it up to this length (tests/test_long_names.py), and PEP 8 asks
# for short module names anyway. Only a name being chosen is held to it (`asgigen new`,
# `update --data`): the template's own validator leaves it out, because copier runs that again
# on every update, where the name an older project recorded must stay valid.
MAX_PACKAGE_NAME_LENGTH = 40


def derive_package_name(project_name: str) -> str:
    """The default import name of a project: lowercase, `-` and `.` become `_`."""
    return re.sub(r"[-.]+", "_", project_name.strip().lower())


def project_name_error(name: str) -> str:
    """Why `name` can't be a project name, or "" when it can."""
    if not name.strip():
        return "the project name is empty"
    if "/" in name or "\\" in name or name in {".", ".."}:
        return f"project name {name!r} is a path, not a name"
    if name[0].isdigit():
        return f"project name {name!r} starts with a digit"
    if not _PROJECT_NAME.match(name) or name.endswith(("-", ".", "_")):
        return (
            f"project name {name!r} may only contain ASCII letters, digits, '-', '_' and '.', "
            "starting with a letter and ending with a letter or digit"
        )
    return ""


def package_name_error(name: str, *, what: str = "package name", style: str | None = None) -> str:
    """Why `name` can't be an import package name, or "" when it can."""
    shown = name
    if not name:
        return f"the {what} is empty"
    if name[0].isdigit():
        return f"{what} {shown!r} starts with a digit"
    if not _PACKAGE_NAME.match(name):
        return (
            f"{what} {shown!r} is not a valid import name "
            "(lowercase ASCII letters, digits and '_', not starting with a digit)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{what} {shown!r} is a Python keyword"
    if name in sys.stdlib_module_names:
        return f"{what} {shown!r} would shadow the standard library module {name!r}"
    if name in LAYOUT_NAMES:
        return f"{what} {shown!r} is reserved for the project layout"
    if name in RESERVED_PACKAGES and (
        style in (None, "fastapi") or name not in FASTAPI_ONLY_PACKAGES
    ):
        return f"{what} {shown!r} would shadow the package {name!r} the project depends on"
    return ""


def package_name_length_error(name: str) -> str:
    """Why `name` is too long to choose now, or "" when it is not (MAX_PACKAGE_NAME_LENGTH)."""
    if len(name) > MAX_PACKAGE_NAME_LENGTH:
        return f"package name {name!r} is longer than {MAX_PACKAGE_NAME_LENGTH} characters"
    return ""


def port_error(port: object) -> str:
    """Why `port` can't be a default port, or "" when it can."""
    if isinstance(port, bool) or not isinstance(port, int):
        return f"port {port!r} is not a whole number"
    if not 1 <= port <= 65535:
        return f"port {port} is out of range (1-65535)"
    return ""
