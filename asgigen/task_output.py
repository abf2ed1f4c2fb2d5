"""What a template's tasks print goes to stderr: asgigen's stdout holds only its results
(a --json report, a project's path), which a task's `git init` would otherwise precede.

copier runs `_tasks` as subprocesses that inherit file descriptor 1, so the redirect is of
the descriptor, not of `sys.stdout`. Renders may run in threads at once (`validate -j`): the
first one in points fd 1 at stderr, the last one out points it back.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_saved: int | None = None


@contextlib.contextmanager
def to_stderr() -> Iterator[None]:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            sys.stdout.flush()
            _saved = os.dup(1)
            os.dup2(2, 1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                sys.stdout.flush()
                os.dup2(_saved, 1)
                os.close(_saved)
                _saved = None
