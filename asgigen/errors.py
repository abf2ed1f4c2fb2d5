"""Errors the CLI turns into one line on stderr and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def last_line(text: str) -> str:
    """The last non-blank line of a tool's error output: the one that says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


class AsgigenError(Exception):
    """An error with a message meant for the user, an optional hint and an exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Longer output (a failing step's log) shown before the one-line error.
        self.details = details


class BadInputError(AsgigenError):
    """A name, path, option or data file the user gave is not acceptable."""


class TemplateError(AsgigenError):
    """The template itself is broken or could not be rendered."""


class CheckFailedError(AsgigenError):
    """A generated project failed its tests or its live boot."""

    exit_code = EXIT_CHECK_FAILED


class UpdateConflictError(AsgigenError):
    """A template update left conflicts for the user to resolve."""

    exit_code = EXIT_CHECK_FAILED


class Interrupted(AsgigenError):
    """The user pressed Ctrl-C (SIGINT) or the process got SIGTERM."""

    exit_code = EXIT_INTERRUPTED
