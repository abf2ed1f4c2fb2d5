"""With a terminal, `asgigen new` asks the questions the command line left open."""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")


# prompt_toolkit (copier's prompts) enters raw mode and attaches to the terminal's input, then
# draws the prompt, turning bracketed paste on as it does: this sequence starts each prompt.
PROMPT_STARTS = b"\x1b[?2004h"
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x08")


def prompt_message(drawn: bytes) -> str | None:
    """The question a prompt shows ("🎤 <message>"), once its first line is fully drawn."""
    text = ESCAPES.sub("", drawn.decode("utf-8", errors="replace"))
    _, mark, rest = text.partition("🎤")
    if not mark or "\n" not in rest:
        return None
    return rest.split("\n", 1)[0].strip()


def drive(command: list[str], cwd: Path, answers: dict[str, str], timeout: float = 180) -> str:
    """Run `command` on a pseudo-terminal, typing an answer at each prompt whose question
    contains a key of `answers` and pressing Enter (accept the default) at every other one.
    Returns the transcript.

    Nothing is typed until a prompt has been drawn, and the prompt is drawn only after it
    listens: no guessing from pauses in the output, so a slow machine makes it slower, not
    wrong. `timeout` bounds the whole run, with room for a loaded machine."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        os.chdir(cwd)
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        env.pop("CI", None)
        os.execve(command[0], command, env)
    transcript = b""
    answered = 0  # prompts answered so far
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                text = transcript.decode(errors="replace")
                pytest.fail(f"no exit after {timeout:.0f} s; the terminal showed:\n{text}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal: it has exited
                break
            if not chunk:
                break
            transcript += chunk
            prompts = transcript.split(PROMPT_STARTS)[1:]
            while answered < len(prompts):
                message = prompt_message(prompts[answered])
                if message is None:  # still being drawn
                    break
                answer = next((a for q, a in answers.items() if q in message), None)
                keys = b"\r" if answer is None else b"\x15" + answer.encode() + b"\r"
                os.write(fd, keys)  # Ctrl-U clears the default; Enter confirms
                answered += 1
    finally:
        pidfd = os.pidfd_open(pid)  # readable once the child has exited
        exited, _, _ = select.select([pidfd], [], [], 30)
        os.close(pidfd)
        if not exited:  # still running: a test that failed must not leave it behind
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, transcript.decode(errors="replace")
    return transcript.decode("utf-8", errors="replace")


def test_terminal_user_is_asked_the_open_questions(tmp_path: Path) -> None:
    asgigen = str(Path(sys.executable).parent / "asgigen")
    transcript = drive(
        [asgigen, "new", "shop", "--style", "raw", "--no-check", "--no-git"],
        tmp_path,
        {"description": "Typed at the prompt", "Author": "Ada Lovelace"},
    )
    # Questions the command line answered are not asked again; the others are.
    for given in ("Project name", "Import name", "Which style"):
        assert given not in transcript
    for question in ("description", "Author", "Python version", "port", "Dockerfile", "CI"):
        assert question in transcript
    pyproject = (tmp_path / "shop" / "pyproject.toml").read_text()
    assert 'description = "Typed at the prompt"' in pyproject, transcript
    assert "Ada Lovelace" in pyproject


@pytest.mark.parametrize("no_color", ["", "1"])
def test_colour_on_a_terminal_unless_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_color: str
) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    asgigen = str(Path(sys.executable).parent / "asgigen")
    command = [asgigen, "new", "shop", "--style", "raw", "--defaults", "--no-check", "--no-git"]
    transcript = drive(command, tmp_path, {})
    assert "rendered" in transcript
    assert ("\x1b[32m" in transcript) is not bool(no_color)
