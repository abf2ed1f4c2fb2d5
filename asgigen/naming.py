"""The rules for project and package names: the built-in template's own, read from it.

They are written once, as Jinja macros in the template (`_partials/naming.jinja`), because
copier.yml's validators must work with plain copier, no asgigen installed. asgigen renders the
same macros as copier does (a sandboxed Jinja environment with jinja2-ansible-filters), so it
refuses a name up front, with a hint, for exactly the template's reasons, on every Python a
generated project may run on (the template's lists cover 3.11 to 3.14).

One rule is asgigen's alone: MAX_PACKAGE_NAME_LENGTH.
"""

from __future__ import annotations

import functools
from typing import Any

from asgigen.template import builtin_template

NAMING_PARTIAL = "_partials/naming.jinja"

# The longest import name the built-in template is proved against: every line that holds it
# keeps the layout ruff gives it up to this length (tests/test_long_names.py), and PEP 8 asks
# for short module names anyway. Only a name being chosen is held to it (`asgigen new`,
# `update --data`): the template's own validator leaves it out, because copier runs that again
# on every update, where the name an older project recorded must stay valid.
MAX_PACKAGE_NAME_LENGTH = 40

# The template's name lists, as frozensets (naming.LAYOUT_NAMES...): read on first use.
_LISTS = ("LAYOUT_NAMES", "RESERVED_PACKAGES", "FASTAPI_ONLY_PACKAGES")


@functools.cache
def _rules() -> Any:
    """The template's naming partial as a Jinja module: its macros and its lists."""
    from jinja2 import FileSystemLoader  # lazy: 20-70 ms to import
    from jinja2.sandbox import SandboxedEnvironment  # lazy: 20-70 ms to import

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(builtin_template())),
        keep_trailing_newline=True,
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
    return env.get_template(NAMING_PARTIAL).module


def __getattr__(name: str) -> frozenset[str]:
    if name in _LISTS:
        return frozenset(getattr(_rules(), name))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def derive_package_name(project_name: str) -> str:
    """The default import name of a project: lowercase, runs of `-` and `.` become `_`."""
    return str(_rules().derive_package_name(project_name))


def project_name_error(name: str) -> str:
    """Why `name` can't be a project name, or "" when it can."""
    return str(_rules().project_name_error(name)).strip()


def package_name_error(name: str, *, what: str = "package name", style: str | None = None) -> str:
    """Why `name` can't be an import package name, or "" when it can."""
    return str(_rules().package_name_error(name, what=what, style=style)).strip()


def package_name_length_error(name: str) -> str:
    """Why `name` is too long to choose now, or "" when it is not (MAX_PACKAGE_NAME_LENGTH)."""
    if len(name) > MAX_PACKAGE_NAME_LENGTH:
        return f"package name {name!r} is longer than {MAX_PACKAGE_NAME_LENGTH} characters"
    return ""


def port_error(port: object) -> str:
    """Why `port` can't be a default port, or "" when it can."""
    return str(_rules().port_error(port)).strip()
