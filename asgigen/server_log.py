"""The real cause in what a server printed before it died: its last traceback's last frame and
error line, or else its last error line."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TRACEBACK = "Traceback (most recent call last):"
_ERROR_WORD = re.compile(r"\b(error|exception|fatal)\b", re.I)


@dataclass(frozen=True)
class Cause:
    line: str  # the error line, "" when the log holds none
    excerpt: str  # the lines that show it: the last frame and the error, or the log's tail


def find_cause(log: str, tail_lines: int = 15) -> Cause:
    """The error a server's `log` ends with, and the lines to show for it."""
    lines = [line.rstrip() for line in log.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(_TRACEBACK)]
    if starts:
        found = _traceback_cause(lines, starts[-1])
        if found is not None:
            return found
    tail = [line for line in lines if line.strip()][-tail_lines:]
    errors = [line for line in tail if _ERROR_WORD.search(line)]
    line = (errors or tail or [""])[-1].strip()
    return Cause(line, "\n".join(tail))


def _traceback_cause(lines: list[str], start: int) -> Cause | None:
    indent = len(lines[start]) - len(lines[start].lstrip())
    last_frame = None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        body = line[indent:] if line[:indent].strip() == "" else line
        if body.startswith('  File "'):
            last_frame = i
        elif body.strip() and not body.startswith(" ") and last_frame is not None:
            return Cause(body.strip(), "\n".join(lines[last_frame : i + 1]))
    return None
