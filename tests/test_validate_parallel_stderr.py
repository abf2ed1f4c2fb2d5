"""`validate --jobs 2` renders variants in threads, each loading the template: holding back
copier's banner there must leave sys.stderr as it was, or every later line (the failure
summary, `error: N of M cases failed`) is written to a lost buffer."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgigen import template as template_module
from asgigen.errors import BadInputError


def test_two_templates_loaded_at_once_leave_stderr_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = {"a": threading.Event(), "b": threading.Event()}
    go = {"a": threading.Event(), "b": threading.Event()}

    class Opened:
        def __init__(self, who: str) -> None:
            self.who = who

        def __enter__(self) -> Any:
            inside[self.who].set()
            assert go[self.who].wait(30)
            raise ValueError("stop here: only the held stderr is under test")

        def __exit__(self, *exc: object) -> None:
            return None

    def open_template(url: str, vcs_ref: str | None) -> Opened:
        return Opened(threading.current_thread().name)

    monkeypatch.setattr(template_module, "open_template", open_template)

    def load() -> None:
        loaded: Iterator[Any] = template_module.load(str(tmp_path))
        with pytest.raises(BadInputError, match="not a directory"), loaded:
            pass

    original = sys.stderr
    first = threading.Thread(target=load, name="a")
    second = threading.Thread(target=load, name="b")
    first.start()
    assert inside["a"].wait(30)
    second.start()
    # Unserialised, the second holds stderr while the first does; serialised, it waits.
    inside["b"].wait(0.5)
    go["a"].set()
    first.join(30)
    go["b"].set()
    second.join(30)
    assert sys.stderr is original
