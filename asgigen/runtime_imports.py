"""Why a boot in the run-time environment could not import a module the tests could.

Servers boot with the project's run-time dependencies only (environments, `runtime=True`);
the tests run with its test requirements too. A `ModuleNotFoundError` at boot for a module the
test environment has is the project's mistake a user meets after `pip install .`: the failing
step says so in its one line, and where the package is declared instead.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
from pathlib import Path

from asgigen.requirements import Requirements
from asgigen.steps import StepResult

_MISSING = re.compile(r"No module named '([\w.]+)'")
# The steps that run in the run-time environment.
_BOOT_STEPS = ("app", "setup", "serve:", "replicas")


def explain_missing(step: StepResult, tested_in: Path, declared: Requirements) -> None:
    """Name the cause in `step`'s summary when it failed on a module that only the test
    environment (`tested_in`) provides."""
    if step.ok or not step.name.startswith(_BOOT_STEPS):
        return
    found = _MISSING.search(step.summary) or _MISSING.search(step.output)
    if found is None:
        return
    module = found.group(1).split(".")[0]
    distribution = providing_distribution(tested_in, module)
    if distribution is None:
        return  # missing from the test environment too: nothing more to say than the error
    where = declared.where_declared(distribution)
    cause = f"it is only in {where}" if where else f"{distribution} comes only with the tests'"
    if not where:
        cause += " requirements"
    if found.group(0) not in step.summary:
        step.summary = f"{step.summary}: ModuleNotFoundError: {found.group(0)}"
    step.summary += (
        f" (the app imports a package that is not a run-time dependency: {cause}; "
        f"add {distribution} to {declared.runtime_home})"
    )


def providing_distribution(venv: Path, module: str) -> str | None:
    """The distribution installed in `venv` that provides the top-level `module`."""
    sites = [str(path) for path in venv.glob("lib/python*/site-packages")]
    if not sites:
        return None
    for distribution in importlib.metadata.distributions(path=sites):
        if module in _top_level(distribution):
            name = distribution.metadata["Name"]
            return str(name) if name else None
    return None


def _top_level(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules a distribution installs (`top_level.txt`, else its file list)."""
    declared = distribution.read_text("top_level.txt")
    if declared:
        return set(declared.split())
    names = set()
    for file in distribution.files or []:
        if len(file.parts) > 1:
            names.add(file.parts[0])
        else:
            name = inspect.getmodulename(str(file))
            if name:
                names.add(name)
    return names
