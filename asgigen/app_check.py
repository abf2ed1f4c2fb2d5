"""The contract's `app`, imported in the check environment and confirmed to be an ASGI app.

Every check loads the declared app, whichever server boots the project and however it boots
(a project's `run` command may start Uvicorn on some other object): a contract whose `app`
no longer imports is red, as `hypercorn module:app` and the README's `uvicorn module:app` are.
"""

from __future__ import annotations

import shlex
import subprocess
import time

from asgigen import processes
from asgigen.contract import Contract
from asgigen.steps import StepResult, tail

APP_TIMEOUT = 120.0

# Runs in the check environment: argv[1] is "module:attribute". Exit 0 printing what the app
# is; exit 1 with the one-line reason last on stderr (after the traceback of a failing import).
_SCRIPT = r"""
import importlib, inspect, sys, traceback
ref = sys.argv[1]
module_name, _, attribute = ref.partition(":")
def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)
try:
    module = importlib.import_module(module_name)
except ModuleNotFoundError as err:
    missing = err.name or ""
    if missing == module_name or module_name.startswith(missing + "."):
        fail(f"{ref}: there is no module {module_name} on the python path ({sys.argv[2]})")
    traceback.print_exc()
    fail(f"{ref}: importing {module_name} failed: {type(err).__name__}: {err}")
except BaseException as err:
    traceback.print_exc()
    fail(f"{ref}: importing {module_name} failed: {type(err).__name__}: {err}".splitlines()[0])
app = module
for part in attribute.split("."):
    if not hasattr(app, part):
        fail(f"{ref}: {module_name} has no attribute {attribute!r}")
    app = getattr(app, part)
kind = type(app).__name__
if not callable(app):
    fail(f"{ref} is {kind} {app!r:.60}, not an ASGI application (it cannot be called)")
if not inspect.isclass(app):
    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(None, None, None)
        except TypeError:
            fail(
                f"{ref} takes {signature}, not (scope, receive, send): "
                "an ASGI app, not a factory that makes one"
            )
print(f"{ref} ({'class' if inspect.isclass(app) else kind})")
"""


def verify_app(python: str, contract: Contract, env: dict[str, str]) -> StepResult:
    """Import the contract's app with `python` in the project (environment `env`, as the
    servers get it); a step named "app" that fails with the reason in one line."""
    assert contract.app is not None
    paths = ", ".join(contract.import_paths)
    command = [python, "-c", _SCRIPT, contract.app, paths]
    where = shlex.quote(str(contract.project))
    pythonpath = shlex.quote(env.get("PYTHONPATH", ""))
    module, _, attribute = contract.app.partition(":")
    hint = f"cd {where} && PYTHONPATH={pythonpath} {shlex.quote(python)} -c " + shlex.quote(
        f"import {module}; print({module}.{attribute})"
    )
    started = time.perf_counter()
    try:
        # Registered: a signal stops it, even in the thread that boots the servers beside the
        # tests, which Python never interrupts (an import may hang until APP_TIMEOUT).
        result = processes.run(command, cwd=contract.project, env=env, timeout=APP_TIMEOUT)
    except subprocess.TimeoutExpired:
        seconds = time.perf_counter() - started
        reason = f"importing {module} took longer than {APP_TIMEOUT:.0f} s"
        return StepResult("app", "failed", seconds, reason, hint=hint)
    seconds = time.perf_counter() - started
    if result.returncode == 0 and result.stdout.strip():
        return StepResult("app", "passed", seconds, result.stdout.strip().splitlines()[-1])
    lines = result.stderr.strip().splitlines()
    reason = lines[-1] if lines else f"importing {module} exited with code {result.returncode}"
    output = tail("\n".join(lines[:-1])) if len(lines) > 1 else ""
    return StepResult("app", "failed", seconds, reason[:300], output, hint)
