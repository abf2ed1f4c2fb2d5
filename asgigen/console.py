"""Progress on stderr, results on stdout; colour only for a terminal without NO_COLOR."""

from __future__ import annotations

import os
import sys
from typing import TextIO

_CODES = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}
LABEL_WIDTH = 10  # the progress table's label column; a wider label would shift its line


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def paint(text: str, colour: str, stream: TextIO) -> str:
    if not use_colour(stream):
        return text
    return f"\033[{_CODES[colour]}m{text}\033[0m"


class Console:
    """Writes progress lines to stderr; `quiet` keeps only errors."""

    def __init__(self, *, quiet: bool = False, err: TextIO | None = None) -> None:
        self.quiet = quiet
        self.err = err if err is not None else sys.stderr

    def step(self, label: str, message: str, seconds: float | None, *, ok: bool = True) -> None:
        """One progress line: a label column, a message and the time it took."""
        if self.quiet:
            return
        colour = "green" if ok else "red"
        timing = f"{seconds:5.1f} s" if seconds is not None else ""
        line = f"  {paint(f'{label:<{LABEL_WIDTH}}', colour, self.err)} {message:<52} {timing}"
        print(line.rstrip(), file=self.err, flush=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.err, flush=True)

    def error(self, message: str, hint: str | None = None) -> None:
        print(f"{paint('error', 'red', self.err)}: {message}", file=self.err, flush=True)
        if hint:
            print(f"{paint('hint', 'yellow', self.err)}: {hint}", file=self.err, flush=True)
