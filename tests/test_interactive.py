"""With a terminal, `asgigen new` asks the questions the command line left open."""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")


def drive(command: list[str], cwd: Path, answers: dict[str, str], timeout: float = 60) -> str:
    """Run `command` on a pseudo-terminal, typing an answer at each prompt named in `answers`
    and pressing Enter (accept the default) at every other one. Returns the transcript.

    It types only when the output has been quiet for a moment, and confirms an answer only
    once the terminal echoed it, so a slow machine makes it slower, not wrong."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        os.chdir(cwd)
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        env.pop("CI", None)
        os.execve(command[0], command, env)
    transcript = b""
    answered: set[str] = set()
    pending: tuple[str, str] | None = None
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal: it has exited
                    break
                if not chunk:
                    break
                transcript += chunk
                idle_since = time.monotonic()
                continue
            if time.monotonic() - idle_since < 0.5:
                continue
            # Quiet for a moment: a prompt waits for us.
            last_prompt = transcript.decode("utf-8", errors="replace").rsplit("🎤", 1)[-1]
            if pending is not None:
                question, answer = pending
                if answer in last_prompt:  # the terminal echoed it: confirm
                    os.write(fd, b"\r")
                    answered.add(question)
                    pending = None
                else:  # typed before the prompt listened: type it again
                    os.write(fd, b"\x15" + answer.encode())
            else:
                for question, answer in answers.items():
                    if question in last_prompt and question not in answered:
                        pending = (question, answer)
                        os.write(fd, b"\x15" + answer.encode())  # Ctrl-U clears the default
                        break
                else:
                    os.write(fd, b"\r")  # accept the default
            idle_since = time.monotonic()
        else:
            text = transcript.decode(errors="replace")
            pytest.fail("the prompts did not finish in time:\n" + text)
    finally:
        exit_by = time.monotonic() + 10
        done, status = os.waitpid(pid, os.WNOHANG)
        while done == 0 and time.monotonic() < exit_by:
            time.sleep(0.05)
            done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:  # still running: a test that failed must not leave it behind
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
