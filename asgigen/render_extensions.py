"""Jinja extensions a trusted template loads (`_jinja_extensions`), provided for its render.

copier imports a template's extensions into its own process, so they must be importable where
asgigen runs. A missing one is installed with uv, with its dependencies, into a directory of
its own in asgigen's cache (`render-extensions/<distribution>`), never into asgigen's
environment, and that directory is added at the end of the import path: asgigen's own copier
and Jinja stay the ones that run. Only for a template the user trusted (--trust), since an
extension is code; otherwise the error names the command that installs it.

The distribution is guessed from the module's name the way extension packages name themselves
(`copier_template_extensions` → `copier-template-extensions`, `jinja2_time` → `jinja2-time`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys

from asgigen.environments import cache_root, locked, uv_binary
from asgigen.errors import TemplateError

_MISSING = re.compile(r"No module named '([^']+)'")
INSTALL_TIMEOUT = 300.0


def missing_module(err: Exception) -> str | None:
    """The top-level module copier could not import, from its error."""
    match = _MISSING.search(str(err))
    return match.group(1).split(".")[0] if match else None


def distribution(module: str) -> str:
    return module.replace("_", "-")


def install_command(module: str) -> str:
    """The command that installs `module`'s distribution beside asgigen, verbatim."""
    return (
        f"{shlex.quote(uv_binary())} pip install --python {shlex.quote(sys.executable)} "
        f"{distribution(module)}"
    )


def not_installed(module: str) -> TemplateError:
    return TemplateError(
        f"the template loads the Jinja extension module {module!r} (its _jinja_extensions), "
        "which is not installed beside asgigen",
        hint=install_command(module),
    )


def provide(module: str) -> str:
    """Install `module`'s distribution into its cache directory (once) and make it importable;
    return the distribution's name. Raises TemplateError naming the command when it fails."""
    name = distribution(module)
    root = cache_root() / "render-extensions"
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    with locked(root / f"{name}.lock"):
        if not (target / ".asgigen-ready").is_file():
            shutil.rmtree(target, ignore_errors=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
            command = [uv_binary(), "pip", "install", "--quiet", "--python", sys.executable]
            command += ["--target", str(target), name]
            try:
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                done = None
            if done is None or done.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise not_installed(module) from None
            (target / ".asgigen-ready").touch()
    if str(target) not in sys.path:
        sys.path.append(str(target))  # after asgigen's own packages: they stay the ones used
    importlib.invalidate_caches()
    if importlib.util.find_spec(module) is None:
        raise not_installed(module)
    return name
